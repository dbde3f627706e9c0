"""Audit trail: every state change worth knowing about is one append-only row."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from digipersona.models import AuditEvent, User


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


def latest_for_object(
    session: Session, workspace_id: uuid.UUID, object_id: uuid.UUID, *, limit: int
) -> list[AuditEvent]:
    """The newest ``limit`` events of one object, newest first."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.workspace_id == workspace_id, AuditEvent.object_id == object_id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(limit)
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


def actor_names(session: Session, user_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """How each acting user is named on pages (their email address)."""
    if not user_ids:
        return {}
    rows = session.execute(select(User.id, User.email).where(User.id.in_(list(user_ids))))
    return {row.id: row.email for row in rows}
