from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, IdMixin, TimestampMixin


class RunStatus(StrEnum):
    generated = "generated"  # at least one draft was made
    nothing = "nothing"  # ran fine, nothing was needed (``reason`` says why)
    failed = "failed"  # an error; nothing of this run was kept (``error`` says what)
    dry_run = "dry_run"  # planned only, nothing written but this record


class AutopilotRun(IdMixin, TimestampMixin, Base):
    """One run of a rule or trigger: when, what was drafted, why nothing was, what failed."""

    __tablename__ = "autopilot_runs"
    __table_args__ = (Index("ix_autopilot_runs_persona_started", "persona_id", "started_at", "id"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    persona_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("personas.id", ondelete="CASCADE"))
    rule_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("autopilot_rules.id", ondelete="SET NULL"), default=None, index=True
    )
    trigger_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("autopilot_triggers.id", ondelete="SET NULL"), default=None, index=True
    )
    source: Mapped[str] = mapped_column(String(20))  # rule, feed, webhook, engagement, manual
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    post_ids: Mapped[list[str]] = mapped_column(default=list)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # What was planned per draft (topic, structure, platforms, where it went).
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
