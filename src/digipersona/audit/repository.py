from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from digipersona.kit.repository import Page, Repository
from digipersona.models import AuditEvent, User


class AuditRepository(Repository[AuditEvent]):
    model = AuditEvent

    def search(
        self,
        workspace_id: uuid.UUID,
        *,
        object_type: str | None = None,
        action_prefix: str | None = None,
        actor_user_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int,
        cursor: str | None = None,
    ) -> Page[AuditEvent]:
        """The workspace's events newest first (ix_audit_events_workspace_created)."""
        stmt = select(AuditEvent).where(AuditEvent.workspace_id == workspace_id)
        if object_type:
            stmt = stmt.where(AuditEvent.object_type == object_type)
        if action_prefix:
            stmt = stmt.where(AuditEvent.action.startswith(action_prefix, autoescape=True))
        if actor_user_id:
            stmt = stmt.where(AuditEvent.actor_user_id == actor_user_id)
        if since:
            stmt = stmt.where(AuditEvent.created_at >= since)
        if until:
            stmt = stmt.where(AuditEvent.created_at < until)
        return self.keyset(
            stmt,
            [AuditEvent.created_at, AuditEvent.id],
            descending=True,
            limit=limit,
            cursor=cursor,
        )

    def for_object(self, workspace_id: uuid.UUID, object_id: uuid.UUID) -> list[AuditEvent]:
        """One object's events, oldest first."""
        stmt = (
            select(AuditEvent)
            .where(AuditEvent.workspace_id == workspace_id, AuditEvent.object_id == object_id)
            .order_by(AuditEvent.created_at, AuditEvent.id)
        )
        return list(self.session.scalars(stmt))

    def latest_for_object(
        self, workspace_id: uuid.UUID, object_id: uuid.UUID, *, limit: int
    ) -> list[AuditEvent]:
        """One object's newest ``limit`` events, newest first."""
        stmt = (
            select(AuditEvent)
            .where(AuditEvent.workspace_id == workspace_id, AuditEvent.object_id == object_id)
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def changes_since(
        self, workspace_id: uuid.UUID, since: datetime, actions: Iterable[str], *, limit: int
    ) -> list[AuditEvent]:
        """The workspace's events of ``actions`` after ``since``, oldest first."""
        return list(
            self.session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.workspace_id == workspace_id,
                    AuditEvent.created_at > since,
                    AuditEvent.action.in_(list(actions)),
                )
                .order_by(AuditEvent.created_at)
                .limit(limit)
            )
        )

    def user_emails(self, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        """Each user's email address."""
        rows = self.session.execute(select(User.id, User.email).where(User.id.in_(list(user_ids))))
        return {row.id: row.email for row in rows}
