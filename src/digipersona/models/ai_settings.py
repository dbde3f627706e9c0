from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, TimestampMixin


class AISettings(TimestampMixin, Base):
    """A workspace's own AI provider; without a row the installation default (env) applies.

    The API key is Fernet-encrypted like platform tokens and never returned by the API.
    ``prices`` maps a model name to USD per million tokens: ``{"in": float, "out": float}``.
    """

    __tablename__ = "ai_settings"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str] = mapped_column(String(32))
    base_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    model: Mapped[str | None] = mapped_column(String(200), default=None)
    api_key_enc: Mapped[str | None] = mapped_column(Text, default=None)
    monthly_budget_usd: Mapped[float | None] = mapped_column(
        Numeric(10, 4, asdecimal=False), default=None
    )
    prices: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The month ("YYYY-MM") whose budget notification was sent: one notification a month.
    budget_warned_month: Mapped[str | None] = mapped_column(String(7), default=None)
