"""In-app notifications (other channels hang off ``notify`` as they are added)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from digipersona.models import Notification

logger = logging.getLogger("digipersona.notifications")


def notify(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    kind: str,
    title: str,
    body: str = "",
    data: dict[str, Any] | None = None,
    user_id: uuid.UUID | None = None,
) -> Notification:
    """Record a notification for a workspace (or one of its users)."""
    note = Notification(
        workspace_id=workspace_id,
        user_id=user_id,
        kind=kind,
        title=title,
        body=body,
        data=data or {},
    )
    session.add(note)
    session.flush()
    logger.info("notification %s: %s", kind, title)
    from digipersona.notifications import push

    if kind in push.PUSH_KINDS:
        url = "/approvals" if kind == "approval.requested" else "/jobs"
        session.info.setdefault("after_commit", []).append(
            lambda: push.deliver(workspace_id, kind, title, body, url)
        )
    return note


def list_for(session: Session, workspace_id: uuid.UUID, *, limit: int = 50) -> list[Notification]:
    stmt = (
        select(Notification)
        .where(Notification.workspace_id == workspace_id)
        .order_by(Notification.created_at.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
