from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, IdMixin, TimestampMixin


class Variant(IdMixin, TimestampMixin, Base):
    """A post's text fitted to one platform: thread parts, lengths in its counting, problems."""

    __tablename__ = "variants"
    __table_args__ = (UniqueConstraint("post_id", "platform"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    post_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(20))
    parts: Mapped[list[str]] = mapped_column(default=list)
    lengths: Mapped[list[Any]] = mapped_column(default=list)
    valid: Mapped[bool] = mapped_column(default=False)
    problems: Mapped[list[str]] = mapped_column(default=list)
    # What should be fixed but does not block review (e.g. an image without alt text).
    warnings: Mapped[list[str]] = mapped_column(default=list)
    # True when a person edited the parts by hand: body edits no longer regenerate it.
    custom: Mapped[bool] = mapped_column(default=False)
