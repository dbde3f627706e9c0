"""Workspace settings, members and roles, invitations and personal API tokens."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.orm import Session

from digipersona.audit import service as audit
from digipersona.auth.permissions import (
    ROLE_RANK,
    Permission,
    permissions_for,
    scope_permissions,
)
from digipersona.auth.principal import Principal
from digipersona.auth.repository import (
    ApiTokenRepository,
    MembershipRepository,
    RefreshTokenRepository,
    UserRepository,
)
from digipersona.auth.service import (
    API_TOKEN_PREFIX,
    end_sessions,
    find_open_invitation,
    normalise_email,
)
from digipersona.exceptions import BadRequest, Conflict, Forbidden, NotFound
from digipersona.kit import security
from digipersona.kit.time import utcnow
from digipersona.models import ApiToken, Invitation, Membership, Role, User, Workspace
from digipersona.workspaces.repository import InvitationRepository, WorkspaceRepository

INVITATION_PREFIX = "dp_inv_"
INVITATION_DAYS = 7


def all_workspaces(session: Session) -> list[Workspace]:
    """Every workspace of the installation, oldest first (for the CLI, which acts as the server)."""
    return WorkspaceRepository(session).all_oldest_first()


def first_owner(session: Session, workspace: Workspace) -> User:
    """The workspace's oldest owner; NotFound when it has none."""
    user = MembershipRepository(session).first_owner(workspace.id)
    if user is None:
        raise NotFound(f"Workspace {workspace.name!r} has no owner.")
    return user


def get_workspace(session: Session, principal: Principal) -> Workspace:
    workspace = WorkspaceRepository(session).get(principal.workspace_id)
    if workspace is None:
        raise NotFound("No such workspace.")
    return workspace


def rename(session: Session, principal: Principal, name: str) -> Workspace:
    workspace = get_workspace(session, principal)
    old = workspace.name
    workspace.name = name
    session.flush()
    audit.record(
        session,
        workspace_id=workspace.id,
        action="workspace.renamed",
        object_type="workspace",
        object_id=workspace.id,
        actor_user_id=principal.user_id,
        data={"from": old, "to": name},
    )
    return workspace


def list_members(session: Session, principal: Principal) -> list[tuple[Membership, User]]:
    return MembershipRepository(session).members_of(principal.workspace_id)


def _member(session: Session, principal: Principal, membership_id: uuid.UUID) -> Membership:
    membership = MembershipRepository(session).get_in_workspace(
        principal.workspace_id, membership_id
    )
    if membership is None:
        raise NotFound("No such member in this workspace.")
    return membership


def _guard_role_change(principal: Principal, current: Role, new: Role | None) -> None:
    # Only an owner may create, demote or remove an owner; nobody acts above their own rank.
    if Role.owner in (current, new) and principal.role != Role.owner:
        raise Forbidden("Only an owner can grant, change or remove the owner role.")
    if ROLE_RANK[current] > ROLE_RANK[principal.role]:
        raise Forbidden("You cannot change a member whose role is above yours.")


def change_role(
    session: Session, principal: Principal, membership_id: uuid.UUID, role: Role
) -> tuple[Membership, User]:
    membership = _member(session, principal, membership_id)
    current = Role(membership.role)
    _guard_role_change(principal, current, role)
    members = MembershipRepository(session)
    if (
        current == Role.owner
        and role != Role.owner
        and members.count_role(principal.workspace_id, Role.owner.value) <= 1
    ):
        raise Conflict("This is the last owner: make someone else owner first.")
    membership.role = role.value
    session.flush()
    audit.record(
        session,
        workspace_id=principal.workspace_id,
        action="member.role_changed",
        object_type="membership",
        object_id=membership.id,
        actor_user_id=principal.user_id,
        data={"from": current.value, "to": role.value},
    )
    user = session.get(User, membership.user_id)
    assert user is not None
    return membership, user


def remove_member(session: Session, principal: Principal, membership_id: uuid.UUID) -> None:
    membership = _member(session, principal, membership_id)
    current = Role(membership.role)
    _guard_role_change(principal, current, None)
    members = MembershipRepository(session)
    if current == Role.owner and members.count_role(principal.workspace_id, Role.owner.value) <= 1:
        raise Conflict("This is the last owner: make someone else owner first.")
    members.delete(membership)
    # Their sessions in this workspace fail the membership check from now on; with no
    # workspace left they are logged out everywhere (a later invitation does not revive them).
    if members.first_for_user(membership.user_id) is None:
        user = session.get(User, membership.user_id)
        if user is not None:
            end_sessions(session, user)
            RefreshTokenRepository(session).revoke_all_for_user(user.id, utcnow())
    audit.record(
        session,
        workspace_id=principal.workspace_id,
        action="member.removed",
        object_type="membership",
        object_id=membership_id,
        actor_user_id=principal.user_id,
        data={"user_id": str(membership.user_id), "role": current.value},
    )


# -- invitations ---------------------------------------------------------------------------
def invite(
    session: Session, principal: Principal, email: str, role: Role
) -> tuple[Invitation, str]:
    """Create an invitation; the token is returned once and only its hash is stored."""
    if role == Role.owner and principal.role != Role.owner:
        raise Forbidden("Only an owner can invite another owner.")
    email = normalise_email(email)
    user = UserRepository(session).get_by_email(email)
    if user is not None and MembershipRepository(session).get_for(principal.workspace_id, user.id):
        raise Conflict(f"{email} is already a member of this workspace.")
    token = security.new_token(INVITATION_PREFIX)
    invitation = InvitationRepository(session).add(
        Invitation(
            workspace_id=principal.workspace_id,
            email=email,
            role=role.value,
            token_hash=security.token_hash(token),
            invited_by_id=principal.user_id,
            expires_at=utcnow() + timedelta(days=INVITATION_DAYS),
        )
    )
    audit.record(
        session,
        workspace_id=principal.workspace_id,
        action="invitation.created",
        object_type="invitation",
        object_id=invitation.id,
        actor_user_id=principal.user_id,
        data={"email": email, "role": role.value},
    )
    return invitation, token


def list_invitations(session: Session, principal: Principal) -> list[Invitation]:
    return InvitationRepository(session).open_for(principal.workspace_id)


def revoke_invitation(session: Session, principal: Principal, invitation_id: uuid.UUID) -> None:
    invitation = InvitationRepository(session).get_in_workspace(
        principal.workspace_id, invitation_id
    )
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
    ):
        raise NotFound("No such open invitation.")
    invitation.revoked_at = utcnow()
    session.flush()


def accept_invitation(session: Session, user: User, token: str) -> Membership:
    """An existing user joins the inviting workspace."""
    invitation = find_open_invitation(session, token, email=user.email)
    members = MembershipRepository(session)
    if members.get_for(invitation.workspace_id, user.id) is not None:
        raise Conflict("You are already a member of this workspace.")
    membership = members.add(
        Membership(workspace_id=invitation.workspace_id, user_id=user.id, role=invitation.role)
    )
    invitation.accepted_at = utcnow()
    audit.record(
        session,
        workspace_id=invitation.workspace_id,
        action="member.joined",
        object_type="user",
        object_id=user.id,
        actor_user_id=user.id,
        data={"role": invitation.role},
    )
    return membership


# -- API tokens -----------------------------------------------------------------------------
def create_api_token(
    session: Session,
    principal: Principal,
    *,
    name: str,
    scopes: list[str],
    expires_in_days: int | None,
) -> tuple[ApiToken, str]:
    """A personal API token; the plaintext is returned once, only the hash is stored."""
    if principal.via == "api_token":
        raise Forbidden("API tokens cannot create other API tokens: log in to create one.")
    allowed = permissions_for(principal.role)
    denied = [scope for scope in scopes if Permission(scope) not in allowed]
    if denied:
        raise BadRequest(
            f"Your role ({principal.role.value}) cannot grant the scope(s) {', '.join(denied)}: "
            "a token can never do more than its creator."
        )
    token = security.new_token(API_TOKEN_PREFIX)
    row = ApiTokenRepository(session).add(
        ApiToken(
            workspace_id=principal.workspace_id,
            user_id=principal.user_id,
            name=name,
            token_hash=security.token_hash(token),
            token_prefix=token[:12],
            scopes=scopes,
            expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
        )
    )
    audit.record(
        session,
        workspace_id=principal.workspace_id,
        action="api_token.created",
        object_type="api_token",
        object_id=row.id,
        actor_user_id=principal.user_id,
        data={"name": name, "scopes": scopes},
    )
    return row, token


def _token_covers(principal: Principal, row: ApiToken) -> bool:
    """Whether the request's own token holds every permission ``row``'s scopes grant.

    A person (session, JWT) manages any of their tokens; a token only those no broader than
    itself, so a leaked ``drafts`` token cannot revoke or enumerate an ``admin`` one.
    """
    if principal.via != "api_token" or principal.token_scopes is None:
        return True
    return scope_permissions(row.scopes) <= scope_permissions(principal.token_scopes)


def list_api_tokens(session: Session, principal: Principal) -> list[ApiToken]:
    """Admins see every token of the workspace; others see their own (tokens: no broader ones)."""
    user_filter = None if principal.can(Permission.admin) else principal.user_id
    rows = ApiTokenRepository(session).list_for(principal.workspace_id, user_filter)
    return [row for row in rows if _token_covers(principal, row)]


def revoke_api_token(session: Session, principal: Principal, token_id: uuid.UUID) -> None:
    row = ApiTokenRepository(session).get_in_workspace(principal.workspace_id, token_id)
    if row is None or row.revoked_at is not None:
        raise NotFound("No such API token.")
    if row.user_id != principal.user_id and not principal.can(Permission.admin):
        raise NotFound("No such API token.")
    if not _token_covers(principal, row):
        raise Forbidden(
            "This API token may not revoke a token with scopes it does not hold itself "
            f"({', '.join(row.scopes)}): revoke it from the settings page or with a broader token."
        )
    row.revoked_at = utcnow()
    session.flush()
    audit.record(
        session,
        workspace_id=principal.workspace_id,
        action="api_token.revoked",
        object_type="api_token",
        object_id=row.id,
        actor_user_id=principal.user_id,
    )
