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
    from sqlalchemy import select

    from digipersona.kit.time import utcnow
    from digipersona.models import Post, Publication
    from digipersona.posts import service as posts

    persona_list, persona_count = personas.list_personas(session, principal, limit=200)
    names = {p.id: p.name for p in persona_list}
    in_review, review_total = posts.list_posts(session, principal, status="in_review", limit=5)

    def pubs(states: list[str], upcoming: bool) -> list[tuple[Publication, Post]]:
        stmt = (
            select(Publication, Post)
            .join(Post, Post.id == Publication.post_id)
            .where(
                Publication.workspace_id == principal.workspace_id, Publication.state.in_(states)
            )
        )
        if upcoming:
            stmt = stmt.where(Publication.scheduled_at >= utcnow()).order_by(
                Publication.scheduled_at
            )
        else:
            stmt = stmt.order_by(Publication.updated_at.desc())
        return [(p, post) for p, post in session.execute(stmt.limit(8)).all()]

    analytics: dict[str, object] = {}
    if tab == "analytics":
        from digipersona.analytics.views import page_context

        analytics = page_context(session, principal, persona_id=None, platform=None, days=30)
    return render(
        request,
        "pages/dashboard.html",
        {
            "active": "dashboard",
            "tab": tab if tab in {"content", "interactions", "analytics"} else "content",
            "persona_count": persona_count,
            "names": names,
            "in_review": in_review,
            "review_total": review_total,
            "upcoming": pubs(["scheduled", "held"], upcoming=True),
            "recent": pubs(["published", "failed", "missed"], upcoming=False),
            **analytics,
        },
    )
