from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, TimestampMixin


class InteractionPoll(TimestampMixin, Base):
    """Read-back state of one connection: cursor, when it is next due, why it cannot be read."""

    __tablename__ = "interaction_polls"

    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(20))
    cursor: Mapped[str | None] = mapped_column(Text, default=None)
    next_poll_at: Mapped[datetime] = mapped_column(index=True)
    last_polled_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    # Set when the platform (or this connection's permissions) offers no read-back.
    unsupported_reason: Mapped[str | None] = mapped_column(Text, default=None)
    # The connection's token_version when that was found: reconnecting makes it worth a retry.
    token_version: Mapped[int] = mapped_column(default=0)
    # Who holds the poll right now (atomic claim) and until when.
    lease_owner: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
