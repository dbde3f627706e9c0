from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, IdMixin, TimestampMixin


class InteractionKind(StrEnum):
    mention = "mention"
    reply = "reply"
    comment = "comment"
    quote = "quote"


class InteractionStatus(StrEnum):
    new = "new"
    read = "read"
    replied = "replied"
    ignored = "ignored"


class Interaction(IdMixin, TimestampMixin, Base):
    """A mention, reply, comment or quote read from a platform; stored once per platform id."""

    __tablename__ = "interactions"
    __table_args__ = (
        UniqueConstraint("connection_id", "external_id"),
        # The inbox's order (newest first) under its common filters; ties on the timestamp
        # are ordered by the database among themselves only.
        Index("ix_interactions_workspace_created", "workspace_id", "platform_created_at"),
        Index(
            "ix_interactions_workspace_status_created",
            "workspace_id",
            "status",
            "platform_created_at",
        ),
        Index(
            "ix_interactions_workspace_persona_created",
            "workspace_id",
            "persona_id",
            "platform_created_at",
        ),
        # The dashboard's new leads (list and count) without reading every new interaction.
        Index(
            "ix_interactions_workspace_lead_status_created",
            "workspace_id",
            "is_lead",
            "status",
            "platform_created_at",
        ),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    persona_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("personas.id", ondelete="CASCADE"), index=True
    )
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[str] = mapped_column(String(255), default="")
    author_handle: Mapped[str] = mapped_column(String(255), default="")
    author_name: Mapped[str] = mapped_column(String(255), default="")
    author_bio: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(2048), default=None)
    # When the platform says it happened; ``received_at`` is when we stored it.
    platform_created_at: Mapped[datetime | None] = mapped_column(default=None)
    received_at: Mapped[datetime] = mapped_column()
    # Our publication it answers or quotes, when the platform names it and we know it.
    publication_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("publications.id", ondelete="SET NULL"), default=None
    )
    subject_external_id: Mapped[str | None] = mapped_column(String(512), default=None)
    # How to answer it (ReplyTarget fields), kept so a reply is threaded correctly later.
    reply_target: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    lead_score: Mapped[int] = mapped_column(default=0)
    lead_reasons: Mapped[list[Any]] = mapped_column(default=list)
    is_lead: Mapped[bool] = mapped_column(default=False)
    # The operator's verdict from the inbox ("lead" / "not a lead"): a training label for the
    # workspace's lead model (``digipersona leads retrain``). None: not labelled.
    lead_label: Mapped[bool | None] = mapped_column(default=None)
    lead_labelled_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(20), default=InteractionStatus.new.value)
    # The latest reply draft (a Post of the same persona), published through the engine.
    reply_post_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL"), default=None, index=True
    )
