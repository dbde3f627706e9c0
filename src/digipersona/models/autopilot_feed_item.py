from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, IdMixin


class SeenFeedItem(IdMixin, Base):
    """A feed item (or webhook event) the autopilot has used; each at most once per trigger."""

    __tablename__ = "autopilot_feed_items"
    __table_args__ = (UniqueConstraint("trigger_id", "item_key"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    trigger_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("autopilot_triggers.id", ondelete="CASCADE")
    )
    # SHA-256 of the item's guid (or its link when it has none); webhooks: of the event id/URL.
    item_key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500), default="")
    link: Mapped[str | None] = mapped_column(String(2048), default=None)
    post_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL"), default=None
    )
    seen_at: Mapped[datetime]
