from __future__ import annotations

import uuid
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from digipersona.auth.dependencies import ConnectionManager, Reader, SettingsDep
from digipersona.connections import schemas, service
from digipersona.connections.dependencies import CipherDep, HttpDep
from digipersona.connections.health import health
from digipersona.db import SessionDep, write_scope
from digipersona.exceptions import DigipersonaError
from digipersona.kit.schemas import Text
from digipersona.kit.time import utcnow
from digipersona.models import Connection
from digipersona.web.templating import render

router = APIRouter(prefix="/api/v1", tags=["connections"])


def connection_out(c: Connection, secret: str | None = None) -> schemas.ConnectionOut:
    state = health(c, utcnow())
    return schemas.ConnectionOut(
        id=c.id,
        persona_id=c.persona_id,
        platform=c.platform,
        account_id=c.account_id,
        handle=c.handle,
        display_name=c.display_name,
        profile_url=c.profile_url,
        state=c.state,
        state_reason=c.state_reason,
        status=state.status,
        status_detail=state.detail,
        renews_automatically=state.renews_automatically,
        reconnect_by=state.reconnect_by,
        expires_at=c.expires_at,
        scopes=list(c.scopes),
        spend_usd=float(c.spend_usd or 0),
        monthly_budget_usd=c.monthly_budget_usd,
        created_at=c.created_at,
        secret=secret,
    )


@router.get("/integrations", response_model=list[schemas.PlatformStatus])
def integrations(principal: Reader, settings: SettingsDep) -> list[schemas.PlatformStatus]:
    """Every platform, whether this server is configured for it, and how to configure it."""
    return [schemas.PlatformStatus(**s) for s in service.platform_statuses(settings)]


@router.post(
    "/integrations/bluesky/connect",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.ConnectionOut,
)
def connect_bluesky(
    body: schemas.BlueskyConnectIn,
    principal: ConnectionManager,
    session: SessionDep,
    settings: SettingsDep,
    cipher: CipherDep,
    http: HttpDep,
) -> schemas.ConnectionOut:
    """Connect a Bluesky account with its handle and an app password (never the main one)."""
    connection = service.connect_bluesky(
        session,
        principal,
        settings,
        cipher,
        http,
        persona_id=body.persona_id,
        handle=body.handle,
        app_password=body.app_password,
        service_url=str(body.service_url).rstrip("/") if body.service_url else None,
    )
    return connection_out(connection)


@router.post(
    "/integrations/webhook/connect",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.ConnectionOut,
)
def connect_webhook(
    body: schemas.WebhookConnectIn,
    principal: ConnectionManager,
    session: SessionDep,
    settings: SettingsDep,
    cipher: CipherDep,
) -> schemas.ConnectionOut:
    """Publish to your own URL (n8n, Zapier, Make, a site); the signing secret is shown once."""
    connection, secret = service.connect_webhook(
        session,
        principal,
        cipher,
        settings=settings,
        persona_id=body.persona_id,
        url=str(body.url),
        secret=body.secret,
    )
    return connection_out(connection, secret)


@router.post("/integrations/{platform}/connect", response_model=schemas.AuthorizationOut)
def connect_oauth(
    platform: Text,
    body: schemas.ConnectIn,
    principal: ConnectionManager,
    session: SessionDep,
    settings: SettingsDep,
    cipher: CipherDep,
    http: HttpDep,
) -> schemas.AuthorizationOut:
    """Start an OAuth connection: send the user to ``authorization_url`` (valid 10 minutes)."""
    url, expires = service.start_oauth(
        session, principal, settings, cipher, http, platform=platform, persona_id=body.persona_id
    )
    return schemas.AuthorizationOut(authorization_url=url, expires_at=expires)


@router.get(
    "/integrations/{platform}/callback",
    include_in_schema=True,
    status_code=303,
    response_class=RedirectResponse,
    responses={
        303: {"description": "Back to the Connections page, with the error in the query if any"},
        400: {
            "description": "Unknown or used state: a page that says to start connecting again",
            "content": {"text/html": {"schema": {"type": "string"}}},
        },
    },
)
def oauth_callback(
    platform: Text,
    request: Request,
    settings: SettingsDep,
    cipher: CipherDep,
    http: HttpDep,
    state: Text | None = Query(default=None, max_length=600),
    code: Text | None = Query(default=None, max_length=2000),
    error: Text | None = Query(default=None, max_length=200),
    error_description: Text | None = Query(default=None, max_length=1000),
) -> Response:
    """Where the platform sends the browser back: store the account, go to Connections."""
    try:
        # Own unit of work: a used state must stay used even when the exchange fails.
        with write_scope(request.app.state.sessionmaker) as session:
            state_row_consumed = service.consume_state(session, platform=platform, state=state)
        with write_scope(request.app.state.sessionmaker) as session:
            connection = service.finish_oauth(
                session,
                settings,
                cipher,
                http,
                state_row=state_row_consumed,
                code=code,
                error=error,
                error_description=error_description,
            )
            target = f"/connections?connected={connection.id}"
    except DigipersonaError as exc:
        if exc.status_code == 400 and "start connecting again" in exc.message:
            return render(
                request, "error.html", {"status": 400, "message": exc.message}, status_code=400
            )
        return RedirectResponse(f"/connections?error={quote(exc.message)}", status_code=303)
    return RedirectResponse(target, status_code=303)


@router.get("/connections", response_model=list[schemas.ConnectionOut])
def list_connections(
    principal: Reader,
    session: SessionDep,
    persona_id: uuid.UUID | None = None,
    platform: Text | None = Query(default=None, max_length=20),
) -> list[schemas.ConnectionOut]:
    """Connected accounts with their state and expiry; never their tokens."""
    return [
        connection_out(c)
        for c in service.list_connections(
            session, principal, persona_id=persona_id, platform=platform
        )
    ]


@router.get("/connections/{connection_id}", response_model=schemas.ConnectionOut)
def get_connection(
    connection_id: uuid.UUID, principal: Reader, session: SessionDep
) -> schemas.ConnectionOut:
    """One connection."""
    return connection_out(service.get(session, principal, connection_id))


@router.patch("/connections/{connection_id}", response_model=schemas.ConnectionOut)
def update_connection(
    connection_id: uuid.UUID,
    body: schemas.ConnectionUpdate,
    principal: ConnectionManager,
    session: SessionDep,
) -> schemas.ConnectionOut:
    """Pause or resume publishing, or set a monthly spend budget."""
    fields = body.model_dump(exclude_unset=True)
    return connection_out(
        service.update(
            session,
            principal,
            connection_id,
            paused=fields.get("paused"),
            budget=fields.get("monthly_budget_usd"),
            budget_set="monthly_budget_usd" in fields,
        )
    )


@router.delete("/connections/{connection_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_connection(
    connection_id: uuid.UUID,
    principal: ConnectionManager,
    session: SessionDep,
    settings: SettingsDep,
    cipher: CipherDep,
    http: HttpDep,
) -> None:
    """Disconnect: revoke at the platform where possible and forget the tokens."""
    service.disconnect(session, principal, settings, cipher, http, connection_id)
