from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from digipersona.kit.repository import Page, Repository
from digipersona.models import AuditEvent


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
