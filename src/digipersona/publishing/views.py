"""Calendar (month/week, drag to reschedule) and Jobs pages."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from digipersona.auth.dependencies import WebPrincipal, check_csrf
from digipersona.auth.permissions import Permission
from digipersona.db import SessionDep
from digipersona.exceptions import DigipersonaError, ValidationFailed
from digipersona.kit.time import utcnow
from digipersona.models import Publication
from digipersona.personas import service as personas
from digipersona.publishing import calendar, service
from digipersona.scheduling.slots import validate_timezone
from digipersona.web.templating import render

router = APIRouter()


def _parse_day(value: str | None, fallback: date) -> date:
    try:
        return date.fromisoformat(value) if value else fallback
    except ValueError:
        return fallback


@router.get("/calendar")
def calendar_page(
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    view: str = "month",
    start: str | None = None,
    persona_id: str | None = None,
    state: str | None = None,
) -> Response:
    persona_list, _ = personas.list_personas(session, principal, limit=200)
    selected = next((p for p in persona_list if str(p.id) == persona_id), None)
    tz_name = (
        selected.timezone if selected else (persona_list[0].timezone if persona_list else "UTC")
    )
    tz = ZoneInfo(validate_timezone(tz_name))
    today = datetime.now(tz).date()
    anchor = _parse_day(start, today)
    if view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        days = [first + timedelta(days=i) for i in range(7)]
        prev_start, next_start = first - timedelta(days=7), first + timedelta(days=7)
    else:
        view = "month"
        month_first = anchor.replace(day=1)
        first = month_first - timedelta(days=month_first.weekday())
        days = [first + timedelta(days=i) for i in range(42)]
        prev_start = (month_first - timedelta(days=1)).replace(day=1)
        next_start = (month_first + timedelta(days=32)).replace(day=1)
    range_start = datetime.combine(days[0], time(), tz)
    range_end = datetime.combine(days[-1] + timedelta(days=1), time(), tz)
    rows = calendar.entries(
        session, principal.workspace_id, range_start, range_end, selected.id if selected else None
    )
    by_day: dict[date, list[dict[str, Any]]] = {d: [] for d in days}
    for pub, post, persona in rows:
        if state and pub.state != state:
            continue
        local = pub.scheduled_at.astimezone(tz)
        by_day.setdefault(local.date(), []).append(
            {
                "pub": pub,
                "post": post,
                "persona": persona,
                "time": local.strftime("%H:%M"),
                "title": calendar.title_of(post),
                "movable": pub.state in ("scheduled", "held"),
            }
        )
    return render(
        request,
        "publishing/calendar.html",
        {
            "active": "calendar",
            "view": view,
            "days": days,
            "by_day": by_day,
            "anchor": anchor,
            "today": today,
            "tz": tz_name,
            "personas": persona_list,
            "persona_id": persona_id or "",
            "state": state or "",
            "prev_start": prev_start.isoformat(),
            "next_start": next_start.isoformat(),
            "can_publish": principal.can(Permission.publish),
        },
    )


@router.post("/calendar/move")
async def move(request: Request, principal: WebPrincipal, session: SessionDep) -> Response:
    """Drag and drop: move a post's pending publications to another day, same local time."""
    check_csrf(request, request.headers.get("x-csrf-token"))
    try:
        data = json.loads(await request.body())
    except ValueError:  # also UnicodeDecodeError
        data = None
    if not isinstance(data, dict):
        return JSONResponse(
            {"ok": False, "detail": 'Send a JSON object: {"post_id": ..., "date": "YYYY-MM-DD"}.'},
            status_code=400,
        )
    try:
        post_id = uuid.UUID(str(data.get("post_id")))
        day = date.fromisoformat(str(data.get("date")))
        tz = ZoneInfo(validate_timezone(str(data.get("tz") or "UTC")))
        pubs = [
            p
            for p in service.publications_of(session, service._post(session, principal, post_id))
            if p.state in ("scheduled", "held")
        ]
        if not pubs:
            raise ValidationFailed("Only scheduled posts can be moved.")
        local_time = pubs[0].scheduled_at.astimezone(tz).timetz().replace(tzinfo=None)
        hhmm = data.get("time")
        if hhmm:
            local_time = time.fromisoformat(str(hhmm))
        when = datetime.combine(day, local_time, tz)
        service.reschedule(session, principal, request.app.state.settings, post_id, at=when)
    except (DigipersonaError, ValueError, OverflowError) as exc:
        session.rollback()
        message = getattr(exc, "message", None) or "Give a date as YYYY-MM-DD."
        return JSONResponse(
            {"ok": False, "detail": message}, status_code=getattr(exc, "status_code", 422)
        )
    return JSONResponse({"ok": True, "at": when.isoformat()})


@router.get("/jobs")
def jobs_page(request: Request, principal: WebPrincipal, session: SessionDep) -> Response:
    settings = request.app.state.settings
    summary = calendar.jobs_summary(
        session, principal.workspace_id, utcnow(), settings.scheduler_stale_seconds
    )
    from sqlalchemy import select

    recent_failures = list(
        session.scalars(
            select(Publication)
            .where(
                Publication.workspace_id == principal.workspace_id,
                Publication.state.in_(["failed", "missed", "held", "unknown"]),
            )
            .order_by(Publication.updated_at.desc())
            .limit(20)
        )
    )
    return render(
        request,
        "publishing/jobs.html",
        {
            "active": "jobs",
            "summary": summary,
            "problems": recent_failures,
            "mode": "scale-out" if settings.broker_url else "embedded",
        },
    )
