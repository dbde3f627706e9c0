"""Shell pages that are not owned by a domain yet: the dashboard and honest empty states."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from digipersona.analytics.views import page_context
from digipersona.auth.dependencies import WebPrincipal
from digipersona.db import SessionDep
from digipersona.kit.time import utcnow
from digipersona.publishing.dashboard import summary as dashboard_summary
from digipersona.web.templating import render

router = APIRouter()


@router.get("/sw.js", include_in_schema=False)
def service_worker() -> Response:
    """The service worker, served from the root so it controls every page."""
    path = Path(__file__).parent / "static" / "sw.js"
    return Response(
        path.read_bytes(),
        media_type="application/javascript",
        headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"},
    )


@router.get("/dashboard")
def dashboard(
    request: Request, principal: WebPrincipal, session: SessionDep, tab: str = "content"
) -> Response:
    """Content (what waits, what comes next, what just happened), interactions or analytics."""
    tab = tab if tab in {"content", "interactions", "analytics"} else "content"
    context: dict[str, object] = {}
    if tab == "content":
        context["summary"] = dashboard_summary(session, principal.workspace_id, utcnow())
    elif tab == "analytics":
        context.update(page_context(session, principal, persona_id=None, platform=None, days=30))
    return render(request, "pages/dashboard.html", {"active": "dashboard", "tab": tab, **context})
