"""Calendar (month/week, drag to reschedule) and Jobs pages."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from digipersona.auth.dependencies import WebPrincipal, check_csrf
from digipersona.auth.permissions import Permission
from digipersona.db import SessionDep
from digipersona.exceptions import DigipersonaError, ValidationFailed
from digipersona.kit.time import utcnow
from digipersona.publishing import calendar, service
from digipersona.scheduling.slots import validate_timezone
from digipersona.web.forms import CheckedForm
from digipersona.web.templating import flash, render

router = APIRouter()


MONTH_PER_DAY = 3
WEEK_PER_DAY = 20


def _parse_day(value: str | None, fallback: date) -> date:
    try:
        day = date.fromisoformat(value) if value else fallback
    except ValueError:
        return fallback
    # Leave room for the six weeks around it (a view of year 1 or 9999 would overflow).
    return day if date(1, 2, 1) <= day <= date(9999, 11, 30) else fallback


def _scope(
    session: SessionDep, principal: WebPrincipal, persona_id: str | None, state: str | None
) -> tuple[list[calendar.PersonaChoice], calendar.PersonaChoice | None, str, str]:
    """The persona menu, the chosen persona, the time zone the calendar is drawn in, the state."""
    persona_list = calendar.persona_choices(session, principal.workspace_id)
    selected = next((p for p in persona_list if str(p.id) == persona_id), None)
    tz_name = (
        selected.timezone if selected else (persona_list[0].timezone if persona_list else "UTC")
    )
    return (
        persona_list,
        selected,
        validate_timezone(tz_name),
        state if state in calendar.STATES else "",
    )


def _filters(persona_id: str, state: str) -> str:
    return urlencode({"persona_id": persona_id, "state": state})


@router.get("/calendar")
def calendar_page(
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    view: str = "month",
    start: str | None = None,
    persona_id: str | None = None,
    state: str | None = None,
    date: str | None = None,
) -> Response:
    """Month (counts and the first posts of each day) or week view, drawn in the persona's zone.

    ``date`` is another name for ``start`` (any day of the week or month to show).
    """
    persona_list, selected, tz_name, state = _scope(session, principal, persona_id, state)
    tz = ZoneInfo(tz_name)
    today = datetime.now(tz).date()
    anchor = _parse_day(start or date, today)
    if view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        count, per_day = 7, WEEK_PER_DAY
        prev_start, next_start = first - timedelta(days=7), first + timedelta(days=7)
    else:
        view = "month"
        month_first = anchor.replace(day=1)
        first = month_first - timedelta(days=month_first.weekday())
        count, per_day = 42, MONTH_PER_DAY
        prev_start = (month_first - timedelta(days=1)).replace(day=1)
        next_start = (month_first + timedelta(days=32)).replace(day=1)
    days = calendar.overview(
        session,
        principal.workspace_id,
        datetime.combine(first, time(), tz),
        datetime.combine(first + timedelta(days=count), time(), tz),
        tz,
        per_day=per_day,
        persona_id=selected.id if selected else None,
        state=state or None,
    )
    return render(
        request,
        "publishing/calendar.html",
        {
            "active": "calendar",
            "view": view,
            "days": days,
            "hours": week_rows(days, tz) if view == "week" else [],
            "zone": tz,
            "anchor": anchor,
            "today": today,
            "tz": tz_name,
            "personas": persona_list,
            "persona_id": str(selected.id) if selected else "",
            "state": state,
            "filters": _filters(str(selected.id) if selected else "", state),
            "prev_start": prev_start.isoformat(),
            "next_start": next_start.isoformat(),
            "can_publish": principal.can(Permission.publish),
            "feed_on": calendar.feed_enabled(session, principal),
        },
    )


def week_rows(
    days: list[calendar.Day], tz: ZoneInfo
) -> list[tuple[int, list[list[calendar.Item]]]]:
    """The week as time rows: each local hour that has posts, with each day's posts in it.

    Compact on purpose: a week of 20 posts a day has at most 24 rows, and an empty hour takes
    no room. The items are the ones the overview read (bounded per day).
    """
    rows: dict[int, list[list[calendar.Item]]] = {}
    for column, day in enumerate(days):
        for item in day.items:
            hour = item.first.scheduled_at.astimezone(tz).hour
            rows.setdefault(hour, [[] for _ in days])[column].append(item)
    return sorted(rows.items())


@router.post("/calendar/feed")
def feed_new(
    request: Request, principal: WebPrincipal, session: SessionDep, _: CheckedForm
) -> Response:
    """A new secret iCalendar address, shown once with a Copy button (the old one stops)."""
    principal.require(Permission.publish)
    url = calendar.rotate_feed(session, principal, request.app.state.settings.base_url)
    return render(request, "publishing/feed.html", {"active": "calendar", "url": url})


@router.post("/calendar/feed/revoke")
def feed_revoke(
    request: Request, principal: WebPrincipal, session: SessionDep, _: CheckedForm
) -> Response:
    principal.require(Permission.publish)
    calendar.revoke_feed(session, principal)
    flash(request, "The calendar feed is off; its address no longer works.")
    return RedirectResponse("/calendar", status_code=303)


@router.get("/calendar/day")
def calendar_day(
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    date: str | None = None,
    persona_id: str | None = None,
    state: str | None = None,
    cursor: str | None = None,
    shown: int = 0,
    fragment: bool = False,
) -> Response:
    """One day's posts, a page at a time; ``fragment`` answers the items alone ("+N more")."""
    _, selected, tz_name, state = _scope(session, principal, persona_id, state)
    tz = ZoneInfo(tz_name)
    day = _parse_day(date, datetime.now(tz).date())
    try:
        page, next_cursor = calendar.day_page(
            session,
            principal.workspace_id,
            day,
            tz,
            cursor=cursor or None,
            persona_id=selected.id if selected else None,
            state=state or None,
        )
    except ValidationFailed:
        # A stale or edited cursor: start the day again rather than show an error.
        shown = 0
        page, next_cursor = calendar.day_page(
            session,
            principal.workspace_id,
            day,
            tz,
            persona_id=selected.id if selected else None,
            state=state or None,
        )
    filters = _filters(str(selected.id) if selected else "", state)
    shown = min(max(0, shown), page.posts)  # only says how many are left
    return render(
        request,
        "publishing/_calendar_items.html" if fragment else "publishing/calendar_day.html",
        {
            "active": "calendar",
            "day": page,
            "tz": tz_name,
            "filters": filters,
            "next_cursor": next_cursor,
            "zone": tz,
            "shown": shown + page.shown_posts,
            "more": max(0, page.posts - shown - page.shown_posts),
            "can_publish": principal.can(Permission.publish),
        },
    )


async def _json_object(request: Request) -> Any:
    """The request body as JSON (None when it is not JSON), after the CSRF check."""
    check_csrf(request, request.headers.get("x-csrf-token"))
    try:
        return json.loads(await request.body())
    except ValueError:  # also UnicodeDecodeError
        return None


@router.post("/calendar/move")
def move(
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    data: Annotated[Any, Depends(_json_object)],
) -> Response:
    """Drag and drop: move a post's pending publications to another day, same local time."""
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
    recent_failures = service.recent_problems(session, principal.workspace_id)
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
