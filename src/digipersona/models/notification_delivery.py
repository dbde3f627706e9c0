from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, IdMixin, TimestampMixin


class NotificationDelivery(IdMixin, TimestampMixin, Base):
    """One channel's delivery of a notification event (the outbox).

    Written in the transaction that raises the event, so it exists if and only if the event
    does; the job engine claims due rows (``pending``, or ``sending`` with an expired lease),
    sends them, and records ``delivered``, a retry at ``next_attempt_at``, or ``dead`` with the
    reason.
    """

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        Index("ix_notification_deliveries_due", "state", "next_attempt_at"),
        Index("ix_notification_deliveries_workspace_created", "workspace_id", "created_at"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))  # email, webhook, push
    # The event as every channel sends it (id, kind, title, body, data, workspace name, time).
    event: Mapped[dict[str, Any]] = mapped_column()
    # Email addresses (email) or user ids (push); empty for the workspace webhook.
    recipients: Mapped[list[str]] = mapped_column(default=list)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column()
    lease_owner: Mapped[str | None] = mapped_column(String(200), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
