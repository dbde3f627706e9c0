"""The Connections page: each persona's accounts, their state, and connect buttons."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from digipersona.auth.dependencies import WebPrincipal
from digipersona.auth.permissions import Permission
from digipersona.connections import service
from digipersona.connections.health import health
from digipersona.db import SessionDep
from digipersona.exceptions import DigipersonaError
from digipersona.kit.time import utcnow
from digipersona.personas import service as personas
from digipersona.web.forms import CheckedForm
from digipersona.web.templating import flash, render

router = APIRouter(prefix="/connections")


@router.get("")
def page(
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    connected: str | None = None,
    error: str | None = None,
) -> Response:
    settings = request.app.state.settings
    items, _ = personas.list_personas(session, principal, limit=200)
    connections = service.list_connections(session, principal)
    by_persona: dict[uuid.UUID, list[Any]] = {p.id: [] for p in items}
    for connection in connections:
        by_persona.setdefault(connection.persona_id, []).append(connection)
    try:
        platforms = service.platform_statuses(settings)
    except ImportError:
        platforms = []
    message = None
    if connected:
        message = {"kind": "info", "message": "Account connected."}
    elif error:
        message = {"kind": "error", "message": error[:500]}
    return render(
        request,
        "connections/page.html",
        {
            "active": "connections",
            "personas": items,
            "by_persona": by_persona,
            "health": {c.id: health(c, utcnow()) for c in connections},
            "platforms": platforms,
            "notice": message,
            "can_connect": principal.can(Permission.connections),
        },
    )


@router.post("/connect/{platform}")
def connect(
    platform: str,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    form: CheckedForm,
) -> Response:
    app = request.app
    try:
        persona_id = uuid.UUID(form.get("persona_id", ""))
    except ValueError:
        flash(request, "Choose a persona first.", "error")
        return RedirectResponse("/connections", status_code=303)
    try:
        if platform == "bluesky":
            service.connect_bluesky(
                session,
                principal,
                app.state.settings,
                app.state.cipher,
                app.state.http,
                persona_id=persona_id,
                handle=form.get("handle", ""),
                app_password=form.get("app_password", ""),
                service_url=form.get("service_url") or None,
            )
            flash(request, "Bluesky account connected.")
        elif platform == "webhook":
            _, secret = service.connect_webhook(
                session,
                principal,
                app.state.cipher,
                settings=app.state.settings,
                persona_id=persona_id,
                url=form.get("url", ""),
                secret=form.get("secret") or None,
            )
            if secret:
                # Shown once, on its own page with a Copy button (never put in a cookie).
                return render(
                    request,
                    "connections/webhook_secret.html",
                    {"active": "connections", "secret": secret},
                )
            flash(request, "Webhook connected.")
        else:
            url, _ = service.start_oauth(
                session,
                principal,
                app.state.settings,
                app.state.cipher,
                app.state.http,
                platform=platform,
                persona_id=persona_id,
            )
            return RedirectResponse(url, status_code=303)
    except DigipersonaError as exc:
        session.rollback()
        flash(request, exc.message, "error")
    return RedirectResponse("/connections", status_code=303)


@router.post("/{connection_id}/disconnect")
def disconnect(
    connection_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    form: CheckedForm,
) -> Response:
    app = request.app
    service.disconnect(
        session, principal, app.state.settings, app.state.cipher, app.state.http, connection_id
    )
    flash(request, "Disconnected; its tokens were deleted.")
    return RedirectResponse("/connections", status_code=303)
