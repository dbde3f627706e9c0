from __future__ import annotations

from fastapi import APIRouter, Request, status

from digipersona.auth import schemas, service
from digipersona.auth.dependencies import PrincipalDep, SettingsDep, client_ip
from digipersona.auth.repository import MembershipRepository
from digipersona.db import SessionDep, write_scope
from digipersona.exceptions import Unauthorized

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def _pair(pair: service.TokenPair) -> schemas.TokenPairOut:
    return schemas.TokenPairOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        workspace_id=pair.workspace_id,
    )


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=schemas.RegisterOut)
def register(
    body: schemas.RegisterIn, session: SessionDep, settings: SettingsDep
) -> schemas.RegisterOut:
    """Create an account and its own workspace (or join the workspace of an invitation)."""
    user, workspace, membership = service.register(
        session,
        settings,
        email=body.email,
        password=body.password,
        workspace_name=body.workspace_name,
        display_name=body.display_name,
        invitation_token=body.invitation_token,
    )
    return schemas.RegisterOut(
        user=schemas.UserOut.model_validate(user),
        workspace=schemas.WorkspaceRef(id=workspace.id, name=workspace.name, role=membership.role),
    )


@router.post("/login", response_model=schemas.TokenPairOut)
def login(
    body: schemas.LoginIn, request: Request, session: SessionDep, settings: SettingsDep
) -> schemas.TokenPairOut:
    """Exchange email and password for an access token and a refresh token."""
    user = service.authenticate(
        session,
        settings,
        request.app.state.limiter,
        email=body.email,
        password=body.password,
        ip=client_ip(request),
    )
    membership = service.resolve_workspace(session, user, body.workspace_id)
    return _pair(service.issue_tokens(session, settings, user, membership.workspace_id))


@router.post("/refresh", response_model=schemas.TokenPairOut)
def refresh(
    body: schemas.RefreshIn, request: Request, settings: SettingsDep
) -> schemas.TokenPairOut:
    """Rotate a refresh token; presenting a rotated one revokes its whole family."""
    # Own unit of work: a detected reuse must commit its revocation even though we answer 401.
    with write_scope(request.app.state.sessionmaker) as session:
        try:
            pair = service.rotate_refresh(session, settings, body.refresh_token)
        except service.RefreshReuse:
            pair = None
    if pair is None:
        raise Unauthorized(
            "This refresh token was already used. For your safety every session from it was "
            "signed out: log in again."
        )
    return _pair(pair)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(body: schemas.RefreshIn, session: SessionDep) -> None:
    """Revoke a refresh token and every token rotated from the same login."""
    service.revoke_refresh(session, body.refresh_token)


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(
    body: schemas.PasswordChangeIn,
    principal: PrincipalDep,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> None:
    """Change your password: every web session and refresh token of yours ends (log in again)."""
    service.change_password(
        session,
        settings,
        request.app.state.limiter,
        principal,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    if principal.via == "session":
        # The browser that asked stays logged in; only the other sessions end.
        request.session["sv"] = principal.user.session_version


@router.get("/me", response_model=schemas.MeOut)
def me(principal: PrincipalDep, session: SessionDep) -> schemas.MeOut:
    """Who the credentials belong to, the active workspace and what they may do."""
    pairs = MembershipRepository(session).workspaces_of(principal.user_id)
    refs = [schemas.WorkspaceRef(id=w.id, name=w.name, role=m.role) for w, m in pairs]
    current = next(r for r in refs if r.id == principal.workspace_id)
    return schemas.MeOut(
        user=schemas.UserOut.model_validate(principal.user),
        workspace=current,
        permissions=sorted(p.value for p in principal.permissions),
        via=principal.via,
        workspaces=refs,
    )
