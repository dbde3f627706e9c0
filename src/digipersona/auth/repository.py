from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from digipersona.kit.repository import Repository
from digipersona.models import (
    ApiToken,
    Invitation,
    Membership,
    RefreshToken,
    Role,
    User,
    Workspace,
)


class UserRepository(Repository[User]):
    model = User

    def get_by_email(self, email: str) -> User | None:
        return self.session.scalars(select(User).where(User.email == email.lower())).first()

    def bump_session_version(self, user: User) -> None:
        """End every web session of ``user`` (an atomic increment: concurrent bumps all count)."""
        self.session.execute(
            update(User)
            .where(User.id == user.id)
            .values(session_version=User.session_version + 1)
            .execution_options(synchronize_session=False)
        )
        self.session.refresh(user, ["session_version"])


class MembershipRepository(Repository[Membership]):
    model = Membership

    def get_for(self, workspace_id: uuid.UUID, user_id: uuid.UUID) -> Membership | None:
        stmt = select(Membership).where(
            Membership.workspace_id == workspace_id, Membership.user_id == user_id
        )
        return self.session.scalars(stmt).first()

    def first_for_user(self, user_id: uuid.UUID) -> Membership | None:
        stmt = (
            select(Membership)
            .where(Membership.user_id == user_id)
            .order_by(Membership.created_at, Membership.id)
        )
        return self.session.scalars(stmt).first()

    def workspaces_of(self, user_id: uuid.UUID) -> list[tuple[Workspace, Membership]]:
        stmt = (
            select(Workspace, Membership)
            .join(Membership, Membership.workspace_id == Workspace.id)
            .where(Membership.user_id == user_id)
            .order_by(Membership.created_at, Workspace.id)
        )
        return [(w, m) for w, m in self.session.execute(stmt).all()]

    def members_of(self, workspace_id: uuid.UUID) -> list[tuple[Membership, User]]:
        stmt = (
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.workspace_id == workspace_id)
            .order_by(Membership.created_at, Membership.id)
        )
        return [(m, u) for m, u in self.session.execute(stmt).all()]

    def first_owner(self, workspace_id: uuid.UUID) -> User | None:
        """The workspace's oldest owner."""
        stmt = (
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.workspace_id == workspace_id, Membership.role == Role.owner.value)
            .order_by(Membership.created_at)
        )
        return self.session.scalars(stmt).first()

    def count_role(self, workspace_id: uuid.UUID, role: str) -> int:
        stmt = select(Membership).where(
            Membership.workspace_id == workspace_id, Membership.role == role
        )
        return self.count(stmt)


class RefreshTokenRepository(Repository[RefreshToken]):
    model = RefreshToken

    def get_by_hash(self, token_hash: str) -> RefreshToken | None:
        return self.session.scalars(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash)
        ).first()

    def revoke_family(self, family_id: uuid.UUID, when: datetime) -> None:
        self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=when)
        )

    def revoke_all_for_user(self, user_id: uuid.UUID, when: datetime) -> None:
        self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=when)
        )

    def mark_used(self, token_id: uuid.UUID, when: datetime) -> bool:
        """Atomically mark a token used; False if another request rotated it first."""
        result = self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == token_id, RefreshToken.used_at.is_(None))
            .values(used_at=when)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


class ApiTokenRepository(Repository[ApiToken]):
    model = ApiToken

    def get_by_hash(self, token_hash: str) -> ApiToken | None:
        return self.session.scalars(
            select(ApiToken).where(ApiToken.token_hash == token_hash)
        ).first()

    def touch(self, token_id: uuid.UUID, now: datetime, *, every: timedelta) -> None:
        """Stamp ``last_used_at`` unless it was stamped less than ``every`` ago."""
        self.session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token_id,
                or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - every),
            )
            .values(last_used_at=now)
        )

    def list_for(self, workspace_id: uuid.UUID, user_id: uuid.UUID | None) -> list[ApiToken]:
        stmt = select(ApiToken).where(
            ApiToken.workspace_id == workspace_id, ApiToken.revoked_at.is_(None)
        )
        if user_id is not None:
            stmt = stmt.where(ApiToken.user_id == user_id)
        return list(self.session.scalars(stmt.order_by(ApiToken.created_at, ApiToken.id)))


def invitation_by_hash(session: Session, token_hash: str) -> Invitation | None:
    """An invitation by its token's hash (registration accepts one)."""
    return session.scalars(select(Invitation).where(Invitation.token_hash == token_hash)).first()
