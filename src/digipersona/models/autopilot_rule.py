from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, IdMixin, TimestampMixin


class RuleMode(StrEnum):
    fixed = "fixed"  # draft ``count`` posts at every occurrence
    keep_full = "keep_full"  # draft only what is missing to keep ``count`` posts queued


class Destination(StrEnum):
    review = "review"  # submitted for approval (the default)
    slots = "slots"  # auto-approve personas: approved and scheduled into the next free slots


class GenerationRule(IdMixin, TimestampMixin, Base):
    """When and how the autopilot drafts posts for a persona without anyone asking."""

    __tablename__ = "autopilot_rules"
    __table_args__ = (Index("ix_autopilot_rules_due", "enabled", "next_run_at"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    persona_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("personas.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100), default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    rrule: Mapped[str] = mapped_column(String(500))
    mode: Mapped[str] = mapped_column(String(20), default=RuleMode.fixed.value)
    count: Mapped[int] = mapped_column(default=1)
    platforms: Mapped[list[str]] = mapped_column(default=list)
    # The rule's own content pillars; empty means the persona's topics.
    topics: Mapped[list[str]] = mapped_column(default=list)
    brief: Mapped[str] = mapped_column(Text, default="")
    destination: Mapped[str] = mapped_column(String(20), default=Destination.review.value)
    # Rotation state: where the next draft's topic and structure come from.
    topic_cursor: Mapped[int] = mapped_column(default=0)
    structure_cursor: Mapped[int] = mapped_column(default=0)
    next_run_at: Mapped[datetime | None] = mapped_column(default=None)
    # The persona's zone when next_run_at was computed: a changed zone re-anchors the rule.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    last_run_at: Mapped[datetime | None] = mapped_column(default=None)
    failures: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
