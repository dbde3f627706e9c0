from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, IdMixin, TimestampMixin


class Notification(IdMixin, TimestampMixin, Base):
    """An in-app notification for the members of a workspace (or one user)."""

    __tablename__ = "notifications"
    # The list's order, newest first, and the unread ones' (read_at IS NULL) for the badge; a
    # member's rows are then picked out of the workspace's.
    __table_args__ = (
        Index("ix_notifications_workspace_created", "workspace_id", "created_at", "id"),
        Index("ix_notifications_workspace_unread", "workspace_id", "read_at", "created_at", "id"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    kind: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    read_at: Mapped[datetime | None] = mapped_column(default=None)
