"""Request authentication as ``Annotated`` dependencies (CONVENTIONS.md rule 3)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from digipersona.auth import service
from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.auth.repository import MembershipRepository
from digipersona.config import Settings
from digipersona.db import FactoryDep, SessionDep, session_scope, write_scope
from digipersona.exceptions import BadRequest, Forbidden, Unauthorized

# Re-exported: the views take the CSRF check from here with the principal dependencies.
from digipersona.web.csrf import check_csrf as check_csrf

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def _workspace_header(request: Request) -> uuid.UUID | None:
    raw = request.headers.get("x-workspace-id")
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise BadRequest("X-Workspace-Id must be a workspace id (a UUID).") from exc


def get_principal(request: Request, session: SessionDep, settings: SettingsDep) -> Principal:
    """Authenticate by bearer token (JWT or API token) or, for the web app, the session cookie."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Use 'Authorization: Bearer <token>'.")
        return service.principal_from_bearer(
            session, settings, token.strip(), _workspace_header(request)
        )
    if request.session.get("uid") and request.session.get("wid"):
        if request.method in UNSAFE_METHODS:
            check_csrf(request, request.headers.get("x-csrf-token"))
        return session_principal(request, session, Unauthorized())
    raise Unauthorized()


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_principal_unbound(
    request: Request, factory: FactoryDep, settings: SettingsDep
) -> Principal:
    """``get_principal`` in its own short unit of work, committed before the endpoint runs.

    For endpoints that must hold no transaction while they wait on an AI provider (they open
    their own units of work through ``FactoryDep``). A ``write_scope``: an API token's
    ``last_used_at`` may be stamped.
    """
    with write_scope(factory) as session:
        return get_principal(request, session, settings)


def _unbound_drafter(principal: Annotated[Principal, Depends(get_principal_unbound)]) -> Principal:
    principal.require(Permission.drafts)
    return principal


def requires(permission: Permission) -> Callable[[Principal], Principal]:
    """A dependency that authenticates and then demands one permission."""

    def dependency(principal: PrincipalDep) -> Principal:
        principal.require(permission)
        return principal

    dependency.__name__ = f"requires_{permission.value}"
    return dependency


Reader = Annotated[Principal, Depends(requires(Permission.read))]
Drafter = Annotated[Principal, Depends(requires(Permission.drafts))]
Writer = Annotated[Principal, Depends(requires(Permission.write))]
Approver = Annotated[Principal, Depends(requires(Permission.approve))]
Publisher = Annotated[Principal, Depends(requires(Permission.publish))]
ConnectionManager = Annotated[Principal, Depends(requires(Permission.connections))]
Admin = Annotated[Principal, Depends(requires(Permission.admin))]
# A Drafter that holds no request session (see ``get_principal_unbound``).
UnboundDrafter = Annotated[Principal, Depends(_unbound_drafter)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def session_principal(request: Request, session: Session, refusal: Unauthorized) -> Principal:
    """The principal of the session cookie, checked against the database on every request.

    The cookie is only signed, so a copy of it would outlive logout: it also carries the user's
    ``session_version`` (loaded with the user row anyway), which logout, a password change and
    losing the last workspace bump. A dead cookie is cleared and ``refusal`` raised.
    """
    user = service.session_user(session, request.session.get("uid"), request.session.get("sv"))
    try:
        workspace_id = uuid.UUID(str(request.session.get("wid")))
    except ValueError:
        user = None
    if user is None:
        request.session.clear()
        raise refusal
    try:
        return service.principal_for_user(session, user, workspace_id, "session")
    except Unauthorized:
        pass
    # Removed from this workspace: the cookie now opens the next one, or nothing.
    pairs = MembershipRepository(session).workspaces_of(user.id)
    if not pairs:
        request.session.clear()
        raise refusal from None
    workspace = pairs[0][0]
    request.session["wid"], request.session["wname"] = str(workspace.id), workspace.name
    raise Forbidden(
        f"You no longer have access to that workspace. You are now in “{workspace.name}”: "
        "reload the page or go to the dashboard."
    )


def get_web_principal(request: Request, session: SessionDep) -> Principal:
    """The logged-in user of a web page (forms check their own CSRF field)."""
    if request.session.get("uid") and request.session.get("wid"):
        return session_principal(request, session, Unauthorized("Please log in."))
    raise Unauthorized("Please log in.")


WebPrincipal = Annotated[Principal, Depends(get_web_principal)]


def get_web_principal_unbound(request: Request, factory: FactoryDep) -> Principal:
    """``get_web_principal`` in its own short read unit of work (see ``get_principal_unbound``)."""
    with session_scope(factory) as session:
        return get_web_principal(request, session)


UnboundWebPrincipal = Annotated[Principal, Depends(get_web_principal_unbound)]
