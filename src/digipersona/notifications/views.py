"""The "Notifications" section of the Settings page: the preference matrix and the webhook."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from digipersona.auth.dependencies import WebPrincipal
from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.db import SessionDep
from digipersona.exceptions import DigipersonaError
from digipersona.kit.words import plural
from digipersona.notifications import preferences, service
from digipersona.notifications.delivery import URLS
from digipersona.web.forms import CheckedForm
from digipersona.web.templating import flash, render

router = APIRouter(prefix="/settings/notifications")
page_router = APIRouter(prefix="/notifications")
PAGE = 100
# The badge counts unread notifications up to here and then says "99+".
UNREAD_CAP = 99
BACK = "/settings#notifications"


def settings_context(request: Request, session: Session, principal: Principal) -> dict[str, Any]:
    """What settings.html needs to draw the Notifications section."""
    is_admin = principal.can(Permission.admin)
    return {
        "notification_matrix": service.get_preferences(session, principal),
        "notification_kinds": [
            (kind, label, preferences.available(kind, principal.role))
            for kind, label in preferences.KINDS.items()
        ],
        "notification_channels": list(preferences.CHANNELS.items()),
        "notification_webhook": service.get_webhook(session, principal) if is_admin else None,
        "new_webhook_secret": request.session.pop("new_webhook_secret", None),
        "email_configured": bool(request.app.state.settings.smtp_host),
    }


def _back() -> Response:
    return RedirectResponse(BACK, status_code=303)


@router.post("")
def save_preferences(
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    data: CheckedForm,
) -> Response:
    """The form sends every checked cell; every unchecked available cell is turned off."""
    checked = set(data.getlist("pref"))
    matrix = {
        kind: {channel: f"{kind}:{channel}" in checked for channel in preferences.CHANNELS}
        for kind in preferences.KINDS
        if preferences.available(kind, principal.role)
    }
    try:
        service.set_preferences(session, principal, matrix)
        flash(request, "Notification preferences saved.")
    except DigipersonaError as exc:
        session.rollback()
        flash(request, exc.message, "error")
    return _back()


@router.post("/webhook")
def save_webhook(
    request: Request, principal: WebPrincipal, session: SessionDep, data: CheckedForm
) -> Response:
    principal.require(Permission.admin)
    url = data.get("url", "")
    try:
        if "remove" in data:
            service.clear_webhook(session, principal)
            flash(request, "The notification webhook was removed.")
        elif "test" in data:
            result = service.send_test(
                session, principal, request.app.state.cipher, request.app.state.settings
            )
            flash(
                request,
                f"Test notification: {result['message']}",
                "info" if result["delivered"] else "error",
            )
        else:
            _row, secret = service.set_webhook(
                session,
                principal,
                url,
                rotate_secret="rotate" in data,
                cipher=request.app.state.cipher,
                settings=request.app.state.settings,
            )
            if secret:
                request.session["new_webhook_secret"] = secret
            flash(request, "The notification webhook was saved.")
    except DigipersonaError as exc:
        session.rollback()
        flash(request, exc.message, "error")
    return _back()


# -- the in-app list -------------------------------------------------------------------------
@page_router.get("")
def inbox(
    request: Request, principal: WebPrincipal, session: SessionDep, cursor: str | None = None
) -> Response:
    """Your in-app notifications, newest first, unread marked."""
    page = service.list_for(session, principal, limit=PAGE, cursor=cursor or None)
    unread = service.unread_count(session, principal, UNREAD_CAP)
    return render(
        request,
        "notifications/list.html",
        {
            "active": "notifications",
            "items": [(n, URLS.get(n.kind, "/dashboard")) for n in page.items],
            "page": page,
            "unread": f"{UNREAD_CAP}+" if unread is None else unread,
            # Deliveries by email, webhook or push that gave up: admins see them with the reason.
            "dead_letters": service.dead_letters(session, principal)
            if principal.can(Permission.admin)
            else [],
        },
    )


@page_router.get("/unread-count")
def unread_count(principal: WebPrincipal, session: SessionDep) -> Response:
    """The topbar badge (an htmx fragment): how many notifications you have not read."""
    count = service.unread_count(session, principal, UNREAD_CAP)
    if count == 0:
        return HTMLResponse("")
    shown = f"{UNREAD_CAP}+" if count is None else str(count)
    return HTMLResponse(f'<span class="badge">{shown}<span class="sr-only"> unread</span></span>')


@page_router.post("/read")
def read_all(
    request: Request, principal: WebPrincipal, session: SessionDep, _csrf: CheckedForm
) -> Response:
    marked = service.mark_all_read(session, principal)
    flash(request, f"{plural(marked, 'notification')} marked read.")
    return RedirectResponse("/notifications", status_code=303)


@page_router.post("/{notification_id}/read")
def read_one(
    notification_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    _csrf: CheckedForm,
) -> Response:
    try:
        service.mark_read(session, principal, notification_id)
    except DigipersonaError as exc:
        flash(request, exc.message, "error")
    return RedirectResponse("/notifications", status_code=303)
