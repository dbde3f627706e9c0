from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, IdMixin, TimestampMixin


class AIReservation(IdMixin, TimestampMixin, Base):
    """Budget held for model calls under way: counted with this month's usage until the calls
    are recorded (then deleted) or until ``expires_at`` (a process that died mid-call)."""

    __tablename__ = "ai_reservations"
    __table_args__ = (Index("ix_ai_reservations_workspace_month", "workspace_id", "month"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7))
    cost_usd: Mapped[float] = mapped_column(Numeric(12, 6, asdecimal=False), default=0)
    expires_at: Mapped[datetime] = mapped_column()
