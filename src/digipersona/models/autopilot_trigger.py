from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, IdMixin, TimestampMixin


class TriggerKind(StrEnum):
    feed = "feed"  # an RSS/Atom feed: each new item gets a draft commenting on it
    webhook = "webhook"  # an inbound POST with the trigger's secret token
    engagement = "engagement"  # a lead or an engagement spike, reported by other domains


class Trigger(IdMixin, TimestampMixin, Base):
    """An event that makes the autopilot draft a post for a persona."""

    __tablename__ = "autopilot_triggers"
    __table_args__ = (Index("ix_autopilot_triggers_poll", "kind", "enabled", "next_poll_at"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    persona_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("personas.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100), default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    platforms: Mapped[list[str]] = mapped_column(default=list)
    destination: Mapped[str] = mapped_column(String(20), default="review")
    structure_cursor: Mapped[int] = mapped_column(default=0)
    # Feeds: where, how often, and the validators of the last 200 answer.
    feed_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    poll_minutes: Mapped[int] = mapped_column(default=30)
    etag: Mapped[str | None] = mapped_column(String(500), default=None)
    last_modified: Mapped[str | None] = mapped_column(String(100), default=None)
    next_poll_at: Mapped[datetime | None] = mapped_column(default=None)
    last_polled_at: Mapped[datetime | None] = mapped_column(default=None)
    last_status: Mapped[str | None] = mapped_column(Text, default=None)
    # Set after the first successful poll: items present then are a baseline, not news.
    baseline_done: Mapped[bool] = mapped_column(default=False)
    failures: Mapped[int] = mapped_column(default=0)
    # Webhooks: SHA-256 of the secret token (shown once), compared in constant time.
    token_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    token_hint: Mapped[str | None] = mapped_column(String(20), default=None)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
