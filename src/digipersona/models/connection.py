from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, IdMixin, TimestampMixin


class ConnectionState(StrEnum):
    active = "active"
    expiring = "expiring"
    needs_reconnect = "needs_reconnect"
    paused = "paused"
    revoked = "revoked"


class Connection(IdMixin, TimestampMixin, Base):
    """A persona's account on a platform. Tokens are Fernet-encrypted; never returned by the API."""

    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("persona_id", "platform", "account_id"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    persona_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("personas.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[str] = mapped_column(String(255))
    handle: Mapped[str] = mapped_column(String(255), default="")
    display_name: Mapped[str] = mapped_column(String(255), default="")
    profile_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    access_token_enc: Mapped[str] = mapped_column(Text)
    refresh_token_enc: Mapped[str | None] = mapped_column(Text, default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    scopes: Mapped[list[str]] = mapped_column(default=list)
    # Non-secret provider facts (Bluesky did/pds_url, webhook url, X username).
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(20), default=ConnectionState.active.value)
    state_reason: Mapped[str | None] = mapped_column(Text, default=None)
    paused_until: Mapped[datetime | None] = mapped_column(default=None)
    last_refreshed_at: Mapped[datetime | None] = mapped_column(default=None)
    expiry_warned_days: Mapped[int | None] = mapped_column(default=None)
    monthly_budget_usd: Mapped[float | None] = mapped_column(
        Numeric(10, 4, asdecimal=False), default=None
    )
    spend_month: Mapped[str | None] = mapped_column(String(7), default=None)
    spend_usd: Mapped[float] = mapped_column(Numeric(10, 4, asdecimal=False), default=0)
    # Bumped on every token change: refresh is serialised by compare-and-swap on it.
    token_version: Mapped[int] = mapped_column(default=1)
