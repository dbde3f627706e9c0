"""Connecting persona accounts: OAuth (LinkedIn, X with PKCE), Bluesky app passwords, webhooks.

OAuth ``state`` is single use, expires after 10 minutes and is stored hashed with the PKCE
verifier encrypted. Tokens are encrypted at rest (Fernet, ``DIGIPERSONA_ENCRYPTION_KEYS``) and
never leave this module in plaintext except into a provider call.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.orm import Session

from digipersona.audit import service as audit
from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.config import Settings
from digipersona.connections import repository
from digipersona.connections.credentials import credentials_for
from digipersona.connections.repository import ConnectionRepository, OAuthStateRepository
from digipersona.exceptions import BadRequest, NotFound, UpstreamError, ValidationFailed
from digipersona.kit import outbound, security
from digipersona.kit.crypto import TokenCipher
from digipersona.kit.time import ensure_utc, utcnow
from digipersona.kit.words import plural
from digipersona.models import Connection, ConnectionState, OAuthState, PublicationState
from digipersona.notifications.service import notify
from digipersona.personas import service as personas
from digipersona.platforms import errors
from digipersona.platforms.base import Credentials, Profile, Provider, TokenSet
from digipersona.platforms.factory import CONFIG_HINTS, build_provider, provider_config
from digipersona.platforms.registry import get_provider_class, platform_ids

logger = logging.getLogger("digipersona.connections")
STATE_TTL = timedelta(minutes=10)
EXPIRY_WARNINGS = (14, 7, 1)


def _provider(platform: str, settings: Settings, http: httpx.Client) -> Provider:
    if platform not in platform_ids():
        raise NotFound(f"Unknown platform {platform!r}: use one of {', '.join(platform_ids())}.")
    try:
        cls = get_provider_class(platform)
    except ImportError as exc:
        logger.error("provider %s cannot be loaded: %s", platform, exc)
        raise BadRequest(f"Support for {platform} is not installed on this server.") from exc
    if not cls.is_configured(provider_config(platform, settings)):
        raise BadRequest(
            f"{cls.display_name} is not configured on this server. {CONFIG_HINTS[platform]}"
        )
    return build_provider(platform, settings, http)


def platform_statuses(settings: Settings) -> list[dict[str, Any]]:
    """Each platform: configured or not, with how to configure it, and its capabilities."""
    out = []
    for platform in platform_ids():
        try:
            cls = get_provider_class(platform)
        except ImportError as exc:  # one broken provider must not hide the others
            logger.error("provider %s cannot be loaded: %s", platform, exc)
            continue
        out.append(
            {
                "platform": platform,
                "display_name": cls.display_name,
                "configured": cls.is_configured(provider_config(platform, settings)),
                "hint": CONFIG_HINTS.get(platform, ""),
                "auth_kind": cls.auth_kind,
                "capabilities": {
                    "max_length": cls.max_length,
                    "length_unit": cls.length_unit,
                    "max_images": cls.max_images,
                    "supports_threads": cls.supports_threads,
                    "link_handling": cls.link_handling,
                },
            }
        )
    return out


def redirect_uri(settings: Settings, platform: str) -> str:
    return f"{settings.public_base_url}/api/v1/integrations/{platform}/callback"


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def start_oauth(
    session: Session,
    principal: Principal,
    settings: Settings,
    cipher: TokenCipher,
    http: httpx.Client,
    *,
    platform: str,
    persona_id: uuid.UUID,
) -> tuple[str, datetime]:
    """The authorization URL to send the user to; state and verifier are kept server-side."""
    principal.require(Permission.connections)
    personas.get(session, principal, persona_id)
    provider = _provider(platform, settings, http)
    if provider.auth_kind not in ("oauth2", "oauth2_pkce"):
        raise BadRequest(f"{provider.display_name} does not connect through a browser redirect.")
    state = secrets.token_urlsafe(32)
    verifier, challenge = _pkce_pair() if provider.auth_kind == "oauth2_pkce" else (None, None)
    expires = utcnow() + STATE_TTL
    OAuthStateRepository(session).add(
        OAuthState(
            workspace_id=principal.workspace_id,
            persona_id=persona_id,
            user_id=principal.user_id,
            platform=platform,
            state_hash=security.token_hash(state),
            code_verifier_enc=cipher.encrypt(verifier) if verifier else None,
            redirect_uri=redirect_uri(settings, platform),
            expires_at=expires,
        )
    )
    url = provider.authorization_url(
        state=state, redirect_uri=redirect_uri(settings, platform), code_challenge=challenge
    )
    return url, expires


def consume_state(session: Session, *, platform: str, state: str | None) -> OAuthState:
    """Validate and burn an OAuth state (single use, 10 minutes). Raises 400 otherwise."""
    if not state:
        raise BadRequest(
            "The callback has no state: start connecting again from the Connections page."
        )
    row = OAuthStateRepository(session).get_by_hash(security.token_hash(state))
    if row is None or row.platform != platform:
        raise BadRequest(
            "Unknown connection attempt: start connecting again from the Connections page."
        )
    if row.used_at is not None:
        raise BadRequest("This connection link was already used: start connecting again.")
    if ensure_utc(row.expires_at) <= utcnow():
        raise BadRequest("This connection attempt expired (10 minutes): start connecting again.")
    row.used_at = utcnow()
    session.flush()
    session.expunge(row)
    return row


def finish_oauth(
    session: Session,
    settings: Settings,
    cipher: TokenCipher,
    http: httpx.Client,
    *,
    state_row: OAuthState,
    code: str | None,
    error: str | None,
    error_description: str | None,
) -> Connection:
    """Exchange the code, read the profile, store the connection."""
    platform = state_row.platform
    if error:
        detail = error_description or error
        raise BadRequest(
            f"The connection was not allowed at the platform ({detail}). Nothing was stored."
        )
    if not code:
        raise BadRequest("The platform sent no authorization code. Nothing was stored.")
    provider = _provider(platform, settings, http)
    verifier = cipher.decrypt(state_row.code_verifier_enc) if state_row.code_verifier_enc else None
    try:
        tokens = provider.exchange_code(
            code=code, redirect_uri=state_row.redirect_uri, code_verifier=verifier
        )
        profile = provider.profile(_credentials_from(tokens))
    except errors.PlatformError as exc:
        raise UpstreamError(
            f"{provider.display_name} refused the connection: {exc.message}"
        ) from exc
    return _store(
        session,
        cipher,
        state_row.workspace_id,
        state_row.persona_id,
        platform,
        tokens,
        profile,
        state_row.user_id,
    )


def _credentials_from(tokens: TokenSet) -> Credentials:
    return Credentials(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_at=tokens.expires_at,
        scopes=tuple(tokens.scopes),
        extra=dict(tokens.extra),
    )


def _store(
    session: Session,
    cipher: TokenCipher,
    workspace_id: uuid.UUID,
    persona_id: uuid.UUID,
    platform: str,
    tokens: TokenSet,
    profile: Profile,
    user_id: uuid.UUID | None,
) -> Connection:
    repo = ConnectionRepository(session)
    connection = repo.find_account(persona_id, platform, profile.account_id)
    if connection is None:
        connection = Connection(
            workspace_id=workspace_id,
            persona_id=persona_id,
            platform=platform,
            account_id=profile.account_id,
            access_token_enc="",
        )
        session.add(connection)
    connection.handle = profile.handle
    connection.display_name = profile.display_name
    connection.profile_url = profile.url
    connection.access_token_enc = cipher.encrypt(tokens.access_token)
    connection.refresh_token_enc = (
        cipher.encrypt(tokens.refresh_token) if tokens.refresh_token else None
    )
    connection.expires_at = tokens.expires_at
    connection.scopes = list(tokens.scopes)
    # The handle goes with the non-secret facts: X post URLs are x.com/<username>/status/<id>.
    connection.extra = {
        **(connection.extra or {}),
        **dict(tokens.extra),
        "username": profile.handle,
    }
    connection.state = ConnectionState.active.value
    connection.state_reason = None
    connection.paused_until = None
    connection.expiry_warned_days = None
    connection.token_version = (connection.token_version or 0) + 1
    connection.last_refreshed_at = utcnow()
    session.flush()
    resumed = resume_connection(session, connection)
    audit.record(
        session,
        workspace_id=workspace_id,
        action="connection.connected",
        object_type="connection",
        object_id=connection.id,
        actor_user_id=user_id,
        data={"platform": platform, "account": profile.handle, "resumed": resumed},
    )
    return connection


def connect_bluesky(
    session: Session,
    principal: Principal,
    settings: Settings,
    cipher: TokenCipher,
    http: httpx.Client,
    *,
    persona_id: uuid.UUID,
    handle: str,
    app_password: str,
    service_url: str | None,
) -> Connection:
    """Log in once with an app password; the session is persisted and refreshed afterwards.

    A ``service_url`` the user gives must pass the outbound guard (422 otherwise); the login and
    every later call, to it and to the PDS the account's DID document names, are guarded too.
    """
    principal.require(Permission.connections)
    personas.get(session, principal, persona_id)
    if service_url:
        outbound.ensure_allowed(service_url, settings, field="service_url")
    provider = _provider("bluesky", settings, http)
    connect = getattr(provider, "connect", None)  # Bluesky-specific: app-password login
    if not callable(connect):
        raise BadRequest("This server's Bluesky provider cannot log in with an app password.")
    try:
        credentials, profile = connect(
            handle=handle.strip().lstrip("@"),
            app_password=app_password.strip(),
            service_url=service_url or settings.bluesky_service_url,
        )
    except errors.PlatformError as exc:
        if isinstance(exc.__cause__, outbound.OutboundRefused):
            raise ValidationFailed(
                f"This Bluesky server cannot be used. {exc.__cause__}",
                errors=[{"field": "service_url", "message": str(exc.__cause__)}],
            ) from exc
        raise BadRequest(f"Bluesky refused the login: {exc.message}") from exc
    tokens = TokenSet(
        access_token=credentials.access_token,
        refresh_token=credentials.refresh_token,
        expires_at=credentials.expires_at,
        scopes=tuple(credentials.scopes),
        extra=dict(credentials.extra),
    )
    return _store(
        session,
        cipher,
        principal.workspace_id,
        persona_id,
        "bluesky",
        tokens,
        profile,
        principal.user_id,
    )


def connect_webhook(
    session: Session,
    principal: Principal,
    cipher: TokenCipher,
    *,
    settings: Settings,
    persona_id: uuid.UUID,
    url: str,
    secret: str | None,
) -> tuple[Connection, str | None]:
    """A webhook target; the signing secret is generated when absent and shown once.

    The URL must pass the outbound guard (422 otherwise, nothing stored); deliveries are
    guarded again when they connect.
    """
    principal.require(Permission.connections)
    personas.get(session, principal, persona_id)
    if not url.startswith(("https://", "http://")):
        raise ValidationFailed(
            "The webhook URL must start with https:// (or http:// on a private network)."
        )
    outbound.ensure_allowed(url, settings, field="url")
    generated = None
    if secret is None:
        generated = secret = secrets.token_urlsafe(32)
    tokens = TokenSet(access_token=secret, extra={"url": url})
    profile = Profile(account_id=url, handle=url.split("://", 1)[1].split("/", 1)[0], url=url)
    connection = _store(
        session,
        cipher,
        principal.workspace_id,
        persona_id,
        "webhook",
        tokens,
        profile,
        principal.user_id,
    )
    return connection, generated


def list_connections(
    session: Session,
    principal: Principal,
    *,
    persona_id: uuid.UUID | None = None,
    platform: str | None = None,
) -> list[Connection]:
    return ConnectionRepository(session).search(
        principal.workspace_id, persona_id=persona_id, platform=platform
    )


def get(session: Session, principal: Principal, connection_id: uuid.UUID) -> Connection:
    connection = ConnectionRepository(session).get_in_workspace(
        principal.workspace_id, connection_id
    )
    if connection is None:
        raise NotFound("No such connection in this workspace.")
    return connection


def update(
    session: Session,
    principal: Principal,
    connection_id: uuid.UUID,
    *,
    paused: bool | None,
    budget: float | None,
    budget_set: bool,
) -> Connection:
    principal.require(Permission.connections)
    connection = get(session, principal, connection_id)
    if budget_set:
        connection.monthly_budget_usd = budget
    if paused is True and connection.state in (
        ConnectionState.active.value,
        ConnectionState.expiring.value,
    ):
        connection.state = ConnectionState.paused.value
        connection.state_reason = "Paused by a person."
    elif paused is False and connection.state == ConnectionState.paused.value:
        connection.state = ConnectionState.active.value
        connection.state_reason = None
        connection.paused_until = None
        session.flush()
        resume_connection(session, connection)
    session.flush()
    return connection


def disconnect(
    session: Session,
    principal: Principal,
    settings: Settings,
    cipher: TokenCipher,
    http: httpx.Client,
    connection_id: uuid.UUID,
) -> None:
    """Revoke at the platform where it allows it, forget the tokens, hold pending posts."""
    principal.require(Permission.connections)
    connection = get(session, principal, connection_id)
    if connection.access_token_enc:
        try:
            provider = build_provider(connection.platform, settings, http)
            provider.revoke(credentials_for(connection, cipher))
        except Exception as exc:  # best effort: forgetting the token is what matters
            logger.warning(
                "revoking %s connection %s failed: %s",
                connection.platform,
                connection.id,
                type(exc).__name__,
            )
    connection.access_token_enc = ""
    connection.refresh_token_enc = None
    connection.state = ConnectionState.revoked.value
    connection.state_reason = "Disconnected by a person."
    repository.hold_pending_publications(session, connection.id, "The account was disconnected.")
    audit.record(
        session,
        workspace_id=principal.workspace_id,
        action="connection.revoked",
        object_type="connection",
        object_id=connection.id,
        actor_user_id=principal.user_id,
        data={"platform": connection.platform},
    )
    session.flush()


def rotate_keys(session: Session, cipher: TokenCipher) -> int:
    """Re-encrypt every stored secret with the first key (``digipersona keys rotate``)."""
    count = 0
    for connection in ConnectionRepository(session).all_with_tokens():
        if connection.access_token_enc:
            connection.access_token_enc = cipher.rotate(connection.access_token_enc)
            count += 1
        if connection.refresh_token_enc:
            connection.refresh_token_enc = cipher.rotate(connection.refresh_token_enc)
    session.flush()
    return count


def check_expiring(session: Session, now: datetime) -> int:
    """Warn 14, 7 and 1 days before a token expires (LinkedIn: 60 days, no refresh token)."""
    warned = 0
    for connection in ConnectionRepository(session).expiring_without_refresh():
        assert connection.expires_at is not None
        left = ensure_utc(connection.expires_at) - now
        if left <= timedelta(0):
            connection.state = ConnectionState.needs_reconnect.value
            connection.state_reason = "The access token expired: reconnect the account."
            notify(
                session,
                workspace_id=connection.workspace_id,
                kind="connection.expired",
                title=f"{connection.platform} account {connection.handle} must be reconnected",
                body=connection.state_reason,
                data={"connection_id": str(connection.id)},
            )
            warned += 1
            continue
        for days in EXPIRY_WARNINGS:
            if left <= timedelta(days=days) and (connection.expiry_warned_days or 99) > days:
                connection.state = ConnectionState.expiring.value
                connection.expiry_warned_days = days
                notify(
                    session,
                    workspace_id=connection.workspace_id,
                    kind="connection.expiring",
                    title=f"{connection.platform} account {connection.handle} expires in "
                    f"{plural(days, 'day')}",
                    body="Reconnect it with one click on the Connections page to keep publishing.",
                    data={"connection_id": str(connection.id), "days": days},
                )
                warned += 1
                break
    session.flush()
    return warned


def resume_connection(session: Session, connection: Connection, now: datetime | None = None) -> int:
    """After a reconnect: held publications of the connection go back to the queue."""
    now = now or utcnow()
    count = 0
    for pub in repository.held_publications(session, connection.id):
        pub.state = PublicationState.scheduled.value
        pub.next_attempt_at = max(ensure_utc(pub.scheduled_at), now)
        pub.last_error = None
        count += 1
    session.flush()
    return count
