from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, IdMixin, TimestampMixin


class AIUsage(IdMixin, TimestampMixin, Base):
    """One call to an AI provider: tokens in and out and its estimated cost."""

    __tablename__ = "ai_usage"
    __table_args__ = (Index("ix_ai_usage_workspace_month", "workspace_id", "month"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    persona_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("personas.id", ondelete="SET NULL"), default=None
    )
    month: Mapped[str] = mapped_column(String(7))
    purpose: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(200))
    tokens_in: Mapped[int] = mapped_column(default=0)
    tokens_out: Mapped[int] = mapped_column(default=0)
    cost_usd: Mapped[float] = mapped_column(Numeric(12, 6, asdecimal=False), default=0)
