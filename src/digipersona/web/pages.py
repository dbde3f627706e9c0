"""Shell pages that are not owned by a domain yet: the dashboard and honest empty states."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from digipersona.auth.dependencies import WebPrincipal
from digipersona.db import SessionDep
from digipersona.personas import service as personas
from digipersona.web.templating import render

router = APIRouter()

# Pages whose domain has not shipped yet say so plainly instead of showing made-up data.
EMPTY_PAGES = {
    "interactions": (
        "Interactions",
        "No interactions yet",
        "Mentions, replies and comments appear here once accounts are connected.",
    ),
    "analytics": (
        "Analytics",
        "No analytics yet",
        "Engagement appears once posts are published and synced.",
    ),
}


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
    _, persona_count = personas.list_personas(session, principal, limit=1)
    return render(
        request,
        "pages/dashboard.html",
        {
            "active": "dashboard",
            "tab": tab if tab in {"content", "interactions", "analytics"} else "content",
            "persona_count": persona_count,
        },
    )


def _empty_page(key: str) -> None:
    title, empty_title, empty_text = EMPTY_PAGES[key]

    def page(request: Request, principal: WebPrincipal) -> Response:
        return render(
            request,
            "pages/placeholder.html",
            {"active": key, "title": title, "empty_title": empty_title, "empty_text": empty_text},
        )

    page.__name__ = f"{key}_page"
    router.add_api_route(f"/{key}", page, methods=["GET"])


for _key in EMPTY_PAGES:
    _empty_page(_key)
