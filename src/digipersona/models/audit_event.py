from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.kit.time import utcnow
from digipersona.models.base import Base, IdMixin


class AuditEvent(IdMixin, Base):
    """Who did what to which object, when (append-only)."""

    __tablename__ = "audit_events"
    # The Settings -> Audit page: the workspace's events newest first (keyset on created_at, id).
    __table_args__ = (
        Index("ix_audit_events_workspace_created", "workspace_id", "created_at", "id"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    actor_token_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[uuid.UUID | None] = mapped_column(default=None, index=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
