from __future__ import annotations

import uuid

from sqlalchemy import select

from digipersona.kit.repository import Repository
from digipersona.models import Invitation, Workspace


class WorkspaceRepository(Repository[Workspace]):
    model = Workspace

    def all_oldest_first(self) -> list[Workspace]:
        """Every workspace of the installation, oldest first."""
        return list(self.session.scalars(select(Workspace).order_by(Workspace.created_at)))


class InvitationRepository(Repository[Invitation]):
    model = Invitation

    def get_by_hash(self, token_hash: str) -> Invitation | None:
        return self.session.scalars(
            select(Invitation).where(Invitation.token_hash == token_hash)
        ).first()

    def open_for(self, workspace_id: uuid.UUID) -> list[Invitation]:
        stmt = select(Invitation).where(
            Invitation.workspace_id == workspace_id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        return list(self.session.scalars(stmt.order_by(Invitation.created_at)))
