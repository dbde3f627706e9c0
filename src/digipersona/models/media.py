from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from digipersona.models.base import Base, IdMixin, TimestampMixin


class Media(IdMixin, TimestampMixin, Base):
    """An image of the workspace's library, attached to a post or (``post_id`` None) unused.

    Bytes live in the database so every process can read them. ``digest`` (SHA-256 of the bytes)
    groups the copies of one image that reusing it on other posts makes, for the media library.
    """

    __tablename__ = "media"
    __table_args__ = (Index("ix_media_workspace_digest", "workspace_id", "digest"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    post_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), index=True, default=None
    )
    position: Mapped[int] = mapped_column(default=0)
    filename: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(50))
    size_bytes: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    alt_text: Mapped[str] = mapped_column(String(2000), default="")
    digest: Mapped[str | None] = mapped_column(String(64), default=None)
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
