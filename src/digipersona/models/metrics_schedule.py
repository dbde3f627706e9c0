from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, IdMixin, TimestampMixin


class MetricsStop(StrEnum):
    finished = "finished"  # the decaying schedule ran to its end
    deleted = "deleted"  # the post is gone at the platform (history is kept)
    unsupported = "unsupported"  # the platform or the connection's permissions give no metrics
    failed = "failed"  # repeated errors; ``last_error`` says which
    no_external_id = "no_external_id"  # published without a platform id (nothing to read)


class MetricsSchedule(IdMixin, TimestampMixin, Base):
    """When a publication's metrics are read next (decaying schedule), or why they stopped."""

    __tablename__ = "metrics_schedules"
    __table_args__ = (Index("ix_metrics_schedules_due", "stopped_reason", "next_sync_at"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    publication_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE"), unique=True
    )
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(20))
    published_at: Mapped[datetime]
    # Index into the schedule's offsets of the next reading; ``None`` once stopped.
    stage: Mapped[int] = mapped_column(default=0)
    next_sync_at: Mapped[datetime | None] = mapped_column(default=None)
    # A claimer holds the row until this time (a crashed sync is retried after it).
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    last_synced_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    stopped_reason: Mapped[str | None] = mapped_column(String(20), default=None)
    stopped_note: Mapped[str | None] = mapped_column(Text, default=None)
    stopped_at: Mapped[datetime | None] = mapped_column(default=None)
