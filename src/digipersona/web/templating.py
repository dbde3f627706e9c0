"""Jinja2 rendering with the page shell's globals (user, workspace, CSRF token, navigation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from digipersona import __version__
from digipersona.kit.urls import http_url
from digipersona.kit.words import age, plural
from digipersona.web.csrf import masked_csrf_token
from digipersona.web.static_files import static_url

TEMPLATES_DIR = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
# Any link that came from outside goes through this: a stored javascript: URL renders as no link.
templates.env.filters["http_url"] = http_url
templates.env.filters["plural"] = plural
templates.env.filters["age"] = age
# Every file under /static is linked as static_url("name"): its URL carries its content hash.
templates.env.globals["static_url"] = static_url

NAV = [
    ("dashboard", "Dashboard", "/dashboard"),
    ("personas", "Personas", "/personas"),
    ("content", "Content", "/content"),
    ("approvals", "Approvals", "/approvals"),
    ("calendar", "Calendar", "/calendar"),
    ("interactions", "Interactions", "/interactions"),
    ("analytics", "Analytics", "/analytics"),
    ("connections", "Connections", "/connections"),
    ("settings", "Settings", "/settings"),
    ("jobs", "Jobs", "/jobs"),
]


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a template inside the shell."""
    ctx: dict[str, Any] = {
        "nav": NAV,
        "version": __version__,
        "csrf_token": masked_csrf_token(request),
        "current_user_email": request.session.get("email"),
        "current_workspace_name": request.session.get("wname"),
        "flash": request.session.pop("flash", None),
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, template, ctx, status_code=status_code)


def flash(request: Request, message: str, kind: str = "info") -> None:
    """Show a message on the next rendered page."""
    request.session["flash"] = {"message": message, "kind": kind}
