from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, IdMixin, TimestampMixin


class PublicationState(StrEnum):
    scheduled = "scheduled"  # waiting for scheduled_at / next_attempt_at
    claimed = "claimed"  # leased by a dispatcher, not yet sent
    sending = "sending"  # a worker is talking to the platform
    unknown = "unknown"  # sending ended without a clear answer: reconcile before anything
    held = "held"  # connection paused/revoked/over budget: waits for a human or a reset
    published = "published"
    failed = "failed"
    cancelled = "cancelled"
    missed = "missed"


ACTIVE_STATES = (
    PublicationState.scheduled.value,
    PublicationState.claimed.value,
    PublicationState.sending.value,
    PublicationState.unknown.value,
    PublicationState.held.value,
)


class Publication(IdMixin, TimestampMixin, Base):
    """One (post, connection) pair: the unit of publishing."""

    __tablename__ = "publications"
    __table_args__ = (
        # Covers the dispatcher's claim (state, due time, then its order): SQLite finds and
        # orders the due ids from the index alone, without reading a table row per candidate.
        Index("ix_publications_claim", "state", "next_attempt_at", "priority", "id"),
        Index("ix_publications_connection_slot", "connection_id", "scheduled_at"),
        # The calendar's ranges and day pages (keyset on scheduled_at, id) and the iCal feed.
        Index("ix_publications_workspace_scheduled", "workspace_id", "scheduled_at", "id"),
        # The dashboard's "scheduled next" and "recently published or failed": one short index
        # range per state, read in order, so their cost does not grow with history.
        Index("ix_publications_workspace_state_scheduled", "workspace_id", "state", "scheduled_at"),
        Index("ix_publications_workspace_state_updated", "workspace_id", "state", "updated_at"),
        # Analytics: the published publications of a date range, read in order.
        Index("ix_publications_workspace_state_published", "workspace_id", "state", "published_at"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    post_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), index=True
    )
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(20))
    scheduled_at: Mapped[datetime]
    slot_at: Mapped[datetime | None] = mapped_column(default=None)
    priority: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(20), default=PublicationState.scheduled.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(100), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(512), default=None)
    external_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    parts_published: Mapped[list[Any]] = mapped_column(default=list)
    # Set when an attempt ended without a clear answer: look the post up before any retry.
    reconcile: Mapped[bool] = mapped_column(default=False)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    error_class: Mapped[str | None] = mapped_column(String(40), default=None)
    errors: Mapped[list[Any]] = mapped_column(default=list)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
