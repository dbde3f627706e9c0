"""Jinja2 rendering with the page shell's globals (user, workspace, CSRF token, navigation)."""

from __future__ import annotations

import zlib
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from digipersona import __version__
from digipersona.kit.time import ensure_utc, isoformat_z
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


def local_time(value: datetime | None, tz: str | None = None) -> Markup:
    """A moment in the persona's zone, with the zone's name; the UTC time shows on hover."""
    if value is None:
        return Markup("")
    try:
        zone = ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    moment = ensure_utc(value)
    local = moment.astimezone(zone)
    return Markup('<time datetime="{}" title="{} UTC">{} {}</time>').format(
        isoformat_z(moment),
        moment.strftime("%Y-%m-%d %H:%M"),
        local.strftime("%Y-%m-%d %H:%M"),
        local.tzname() or zone.key,
    )


templates.env.filters["local_time"] = local_time
PLATFORM_LABELS = {"linkedin": "LinkedIn", "x": "X", "bluesky": "Bluesky", "webhook": "Webhook"}
templates.env.filters["platform_label"] = lambda p: PLATFORM_LABELS.get(p, p)
HISTORY_LABELS = {
    "post.created": "created the post",
    "post.edited": "edited it",
    "post.status_changed": "changed its status",
    "post.scheduled": "scheduled it",
    "post.rescheduled": "moved it",
    "post.unscheduled": "took it out of the queue",
    "post.cancelled": "cancelled it",
    "post.deleted": "deleted it",
}
templates.env.filters["history_label"] = lambda a: HISTORY_LABELS.get(a, a.replace("_", " "))

# A persona without a chosen colour gets one of these, picked by its name (stable across pages).
PERSONA_PALETTE = ("#2563eb", "#7c3aed", "#0f766e", "#c2410c", "#be185d", "#4d7c0f", "#0369a1")
# Small lettered marks for the networks: our own drawing, no platform's logo.
PLATFORM_MARKS = {"linkedin": "in", "x": "X", "bluesky": "bs", "webhook": "{}"}


def persona_colour(colour: str | None, name: str) -> str:
    """The persona's colour, or a stable one from the palette for its name."""
    if colour:
        return colour
    return PERSONA_PALETTE[zlib.crc32(name.encode()) % len(PERSONA_PALETTE)]


def persona_dot(colour: str | None, name: str) -> Markup:
    """A dot in the persona's colour (SVG attributes: the CSP allows no inline styles)."""
    return Markup(
        '<svg class="persona-dot" width="10" height="10" viewBox="0 0 10 10" aria-hidden="true">'
        '<circle cx="5" cy="5" r="5" fill="{}"/></svg>'
    ).format(persona_colour(colour, name))


def avatar(initials: str, colour: str | None, name: str) -> Markup:
    """A round avatar with the initials on the persona's colour."""
    return Markup(
        '<svg class="avatar" width="40" height="40" viewBox="0 0 40 40" aria-hidden="true">'
        '<circle cx="20" cy="20" r="20" fill="{}"/><text x="20" y="25" text-anchor="middle" '
        'fill="#fff" font-size="14" font-weight="700" font-family="sans-serif">{}</text></svg>'
    ).format(persona_colour(colour, name), initials)


def platform_icon(platform: str) -> Markup:
    label = PLATFORM_LABELS.get(platform, platform)
    return Markup(
        '<span class="picon picon-{}" title="{}" aria-label="{}" role="img">{}</span>'
    ).format(platform, label, label, PLATFORM_MARKS.get(platform, platform[:2]))


templates.env.filters["persona_colour"] = persona_colour
templates.env.globals["persona_dot"] = persona_dot
templates.env.globals["avatar"] = avatar
templates.env.globals["platform_icon"] = platform_icon

NAV = [
    ("dashboard", "Dashboard", "/dashboard"),
    ("personas", "Personas", "/personas"),
    ("content", "Content", "/content"),
    ("media", "Media", "/media"),
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
