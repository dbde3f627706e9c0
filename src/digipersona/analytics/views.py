"""Analytics pages: the /analytics page (filters, SVG charts, top posts, what platforms lack)."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from digipersona.analytics import charts, service
from digipersona.auth.dependencies import WebPrincipal
from digipersona.db import SessionDep
from digipersona.exceptions import DigipersonaError
from digipersona.kit.time import utcnow
from digipersona.personas import service as personas
from digipersona.platforms.registry import platform_ids
from digipersona.web.templating import render

router = APIRouter()


def page_context(
    session: Any,
    principal: Any,
    *,
    persona_id: uuid.UUID | None,
    platform: str | None,
    days: int,
) -> dict[str, Any]:
    """Everything the analytics page and the dashboard tab render."""
    end = utcnow()
    start = datetime.combine((end - timedelta(days=days)).date(), time(), tzinfo=end.tzinfo)
    data = service.workspace_analytics(
        session, principal, persona_id=persona_id, platform=platform, start=start, end=end
    )
    best = data["best_times"]
    suggestions = service.slot_suggestions(session, principal, persona_id) if persona_id else None
    ab_tests = [
        service.ab_result(session, t)
        for t in service.list_ab_tests(session, principal)
        if persona_id is None or t.persona_id == persona_id
    ][:10]
    return {
        "ab_tests": ab_tests,
        "suggestions": suggestions,
        "data": data,
        "trend_svg": charts.trend_line(data["trend"]),
        "weekday_svg": charts.weekday_bars(best["weekdays"]) if best["measured_posts"] else None,
        "heatmap_svg": charts.heatmap(best["cells"]),
        "days": days,
    }


@router.get("/analytics")
def analytics_page(
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    persona_id: str = "",
    platform: str = "",
    days: int = 90,
) -> Response:
    """Engagement for a persona/platform over the last ``days`` days."""
    persona_list, _ = personas.list_personas(session, principal, limit=200)
    error = None
    status_code = 200
    pid: uuid.UUID | None = None
    if persona_id:
        try:
            pid = uuid.UUID(persona_id)
        except ValueError:
            error, status_code = "Choose a persona from the list.", 422
    days = min(max(days, 7), 730)
    context: dict[str, Any] = {}
    if error is None:
        try:
            context = page_context(
                session, principal, persona_id=pid, platform=platform or None, days=days
            )
        except DigipersonaError as exc:
            error, status_code = exc.message, exc.status_code
    return render(
        request,
        "analytics/page.html",
        {
            "active": "analytics",
            "personas": persona_list,
            "platforms": platform_ids(),
            "persona_id": persona_id,
            "platform": platform,
            "days": days,
            "error": error,
            **context,
        },
        status_code=status_code,
    )


@router.get("/analytics/forecast/{post_id}")
def forecast_fragment(
    post_id: uuid.UUID, request: Request, principal: WebPrincipal, session: SessionDep
) -> Response:
    """The editor's engagement forecast and, once published, the figures so far (an htmx
    fragment; 404 for another workspace's post)."""
    forecast = service.predict_post(session, principal, post_id)
    figures = service.content_analytics(session, principal, post_id)
    published = [p for p in figures["publications"] if p["published_at"] is not None]
    return render(
        request, "analytics/_forecast.html", {"forecast": forecast, "published": published}
    )
