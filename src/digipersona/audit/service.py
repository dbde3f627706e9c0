"""Audit trail: every state change worth knowing about is one append-only row."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from digipersona.audit.repository import AuditRepository
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


def add_many_by(
    session: Session,
    principal: Any,
    action: str,
    *,
    object_type: str,
    items: Iterable[tuple[uuid.UUID, dict[str, Any]]],
) -> int:
    """Append one event per (object id, data) acted by a principal, without flushing.

    For bulk writes: the caller's next flush inserts them together (one statement per batch)."""
    events = [
        AuditEvent(
            workspace_id=principal.workspace_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            actor_user_id=principal.user_id,
            actor_token_id=principal.token_id,
            data=data,
        )
        for object_id, data in items
    ]
    session.add_all(events)
    return len(events)


def list_for_object(
    session: Session, workspace_id: uuid.UUID, object_id: uuid.UUID
) -> list[AuditEvent]:
    """The history of one object, oldest first."""
    return AuditRepository(session).for_object(workspace_id, object_id)


def latest_for_object(
    session: Session, workspace_id: uuid.UUID, object_id: uuid.UUID, *, limit: int
) -> list[AuditEvent]:
    """The newest ``limit`` events of one object, newest first."""
    return AuditRepository(session).latest_for_object(workspace_id, object_id, limit=limit)


def changes_since(
    session: Session,
    workspace_id: uuid.UUID,
    since: datetime,
    actions: Iterable[str],
    *,
    limit: int,
) -> list[AuditEvent]:
    """The workspace's events of ``actions`` after ``since``, oldest first, at most ``limit``."""
    return AuditRepository(session).changes_since(workspace_id, since, actions, limit=limit)


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
    return AuditRepository(session).user_emails(user_ids)
