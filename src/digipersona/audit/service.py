"""Audit trail: every state change worth knowing about is one append-only row."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from digipersona.models import AuditEvent


def record(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    action: str,
    object_type: str,
    object_id: uuid.UUID | None = None,
    actor_user_id: uuid.UUID | None = None,
    actor_token_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event (flushed, committed by the caller's unit of work)."""
    event = AuditEvent(
        workspace_id=workspace_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        actor_user_id=actor_user_id,
        actor_token_id=actor_token_id,
        data=data or {},
    )
    session.add(event)
    session.flush()
    return event


def list_for_object(
    session: Session, workspace_id: uuid.UUID, object_id: uuid.UUID
) -> list[AuditEvent]:
    """The history of one object, oldest first."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.workspace_id == workspace_id, AuditEvent.object_id == object_id)
        .order_by(AuditEvent.created_at, AuditEvent.id)
    )
    return list(session.scalars(stmt))


def record_by(
    session: Session,
    principal: Any,
    action: str,
    *,
    object_type: str,
    object_id: uuid.UUID | None,
    workspace_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an audit event acted by a principal (its user and API token)."""
    return record(
        session,
        workspace_id=workspace_id or principal.workspace_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        actor_user_id=principal.user_id,
        actor_token_id=principal.token_id,
        data=data,
    )
