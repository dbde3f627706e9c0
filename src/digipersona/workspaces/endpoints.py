from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status

from digipersona.auth.dependencies import Admin, PrincipalDep, Reader, SettingsDep
from digipersona.auth.repository import MembershipRepository
from digipersona.db import SessionDep
from digipersona.models import ApiToken, Invitation, Membership, Role, User
from digipersona.workspaces import schemas, service

router = APIRouter(prefix="/api/v1", tags=["workspace"])


def _member_out(membership: Membership, user: User) -> schemas.MemberOut:
    return schemas.MemberOut(
        id=membership.id,
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=Role(membership.role),
        created_at=membership.created_at,
    )


def _token_out(row: ApiToken, token: str | None = None) -> schemas.ApiTokenOut:
    return schemas.ApiTokenOut(
        id=row.id,
        name=row.name,
        scopes=list(row.scopes),
        token_prefix=row.token_prefix,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        token=token,
    )


def _invitation_out(
    inv: Invitation, token: str | None = None, base_url: str | None = None
) -> schemas.InvitationOut:
    return schemas.InvitationOut(
        id=inv.id,
        email=inv.email,
        role=Role(inv.role),
        expires_at=inv.expires_at,
        created_at=inv.created_at,
        token=token,
        accept_url=f"{base_url}/register?invitation={token}" if token and base_url else None,
    )


@router.get("/workspace", response_model=schemas.WorkspaceOut)
def get_workspace(principal: Reader, session: SessionDep) -> schemas.WorkspaceOut:
    """The workspace the credentials act in."""
    return schemas.WorkspaceOut.model_validate(service.get_workspace(session, principal))


@router.patch("/workspace", response_model=schemas.WorkspaceOut)
def update_workspace(
    body: schemas.WorkspaceUpdate, principal: Admin, session: SessionDep
) -> schemas.WorkspaceOut:
    """Rename the workspace."""
    return schemas.WorkspaceOut.model_validate(service.rename(session, principal, body.name))


@router.get("/workspace/members", response_model=list[schemas.MemberOut])
def list_members(principal: Reader, session: SessionDep) -> list[schemas.MemberOut]:
    """Members and their roles."""
    return [_member_out(m, u) for m, u in service.list_members(session, principal)]


@router.patch("/workspace/members/{member_id}", response_model=schemas.MemberOut)
def change_role(
    member_id: uuid.UUID, body: schemas.MemberUpdate, principal: Admin, session: SessionDep
) -> schemas.MemberOut:
    """Change a member's role."""
    return _member_out(*service.change_role(session, principal, member_id, body.role))


@router.delete("/workspace/members/{member_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_member(member_id: uuid.UUID, principal: Admin, session: SessionDep) -> None:
    """Remove a member from the workspace."""
    service.remove_member(session, principal, member_id)


@router.get("/workspace/invitations", response_model=list[schemas.InvitationOut])
def list_invitations(principal: Admin, session: SessionDep) -> list[schemas.InvitationOut]:
    """Open invitations."""
    return [_invitation_out(i) for i in service.list_invitations(session, principal)]


@router.post(
    "/workspace/invitations",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.InvitationOut,
)
def invite(
    body: schemas.InvitationIn, principal: Admin, session: SessionDep, settings: SettingsDep
) -> schemas.InvitationOut:
    """Invite someone by email; the token and link are shown once."""
    invitation, token = service.invite(session, principal, body.email, body.role)
    return _invitation_out(invitation, token, settings.public_base_url)


@router.delete("/workspace/invitations/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_invitation(invitation_id: uuid.UUID, principal: Admin, session: SessionDep) -> None:
    """Withdraw an open invitation."""
    service.revoke_invitation(session, principal, invitation_id)


@router.post("/invitations/accept", response_model=schemas.WorkspaceOut)
def accept_invitation(
    body: schemas.AcceptInvitationIn, principal: PrincipalDep, session: SessionDep
) -> schemas.WorkspaceOut:
    """Join the inviting workspace with the account you are logged in with."""
    membership = service.accept_invitation(session, principal.user, body.token)
    pairs = MembershipRepository(session).workspaces_of(principal.user_id)
    workspace = next(w for w, m in pairs if m.id == membership.id)
    return schemas.WorkspaceOut.model_validate(workspace)


@router.get("/tokens", response_model=list[schemas.ApiTokenOut])
def list_tokens(principal: Reader, session: SessionDep) -> list[schemas.ApiTokenOut]:
    """Your API tokens (all of the workspace's, for admins); never their secret."""
    return [_token_out(t) for t in service.list_api_tokens(session, principal)]


@router.post("/tokens", status_code=status.HTTP_201_CREATED, response_model=schemas.ApiTokenOut)
def create_token(
    body: schemas.ApiTokenIn, principal: Reader, session: SessionDep, request: Request
) -> schemas.ApiTokenOut:
    """Create a personal API token; ``token`` is in this response only."""
    row, token = service.create_api_token(
        session,
        principal,
        name=body.name,
        scopes=body.scopes,
        expires_in_days=body.expires_in_days,
    )
    return _token_out(row, token)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: uuid.UUID, principal: Reader, session: SessionDep) -> None:
    """Revoke an API token at once."""
    service.revoke_api_token(session, principal, token_id)
