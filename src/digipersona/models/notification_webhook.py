from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, IdMixin, TimestampMixin


class NotificationWebhook(IdMixin, TimestampMixin, Base):
    """A workspace's outgoing notification webhook: its URL and signing secret (encrypted)."""

    __tablename__ = "notification_webhooks"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), unique=True
    )
    url: Mapped[str] = mapped_column(Text)
    # The HMAC key, encrypted with TokenCipher like connection tokens; shown once when made.
    secret_enc: Mapped[str] = mapped_column(Text)
