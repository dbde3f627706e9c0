from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, IdMixin, TimestampMixin


class PostStatus(StrEnum):
    draft = "draft"
    in_review = "in_review"
    approved = "approved"
    rejected = "rejected"
    scheduled = "scheduled"
    published = "published"
    cancelled = "cancelled"
    failed = "failed"
    missed = "missed"


class Post(IdMixin, TimestampMixin, Base):
    """A piece of content of one persona, with one variant per target platform."""

    __tablename__ = "posts"
    # The content list's order (newest first, id breaking ties) under each of its filters.
    __table_args__ = (
        Index("ix_posts_workspace_created", "workspace_id", "created_at", "id"),
        Index("ix_posts_workspace_status_created", "workspace_id", "status", "created_at", "id"),
        Index(
            "ix_posts_workspace_persona_created", "workspace_id", "persona_id", "created_at", "id"
        ),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    persona_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("personas.id", ondelete="CASCADE"), index=True
    )
    brief: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=PostStatus.draft.value)
    platforms: Mapped[list[str]] = mapped_column(default=list)
    tags: Mapped[list[str]] = mapped_column(default=list)
    link_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    linkedin_comment: Mapped[str | None] = mapped_column(Text, default=None)
    thread_numbering: Mapped[bool] = mapped_column(default=False)
    rejection_reason: Mapped[str | None] = mapped_column(Text, default=None)
    priority: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)
    # Where the text came from (provider, structure, topic, prompt version, seed).
    provider: Mapped[str | None] = mapped_column(String(50), default=None)
    structure: Mapped[str | None] = mapped_column(String(50), default=None)
    topic: Mapped[str | None] = mapped_column(String(200), default=None)
    prompt_version: Mapped[str | None] = mapped_column(String(50), default=None)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    approved_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    approved_at: Mapped[datetime | None] = mapped_column(default=None)
    # When the metrics sync first found the post's engagement well above the persona's median
    # (the engagement trigger fires once per post; analytics.sync claims it atomically).
    engagement_spike_at: Mapped[datetime | None] = mapped_column(default=None)
