from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, IdMixin


class MetricSnapshot(IdMixin, Base):
    """Engagement numbers of one publication at one time (history: one row per sync).

    A ``None`` figure means the platform does not provide it (never a zero).
    """

    __tablename__ = "metric_snapshots"
    __table_args__ = (Index("ix_metric_snapshots_publication_taken", "publication_id", "taken_at"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    publication_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE")
    )
    taken_at: Mapped[datetime]
    # Which step of the decaying schedule took it (0 = 1 h after publication).
    stage: Mapped[int] = mapped_column(default=0)
    likes: Mapped[int | None] = mapped_column(default=None)
    reposts: Mapped[int | None] = mapped_column(default=None)
    replies: Mapped[int | None] = mapped_column(default=None)
    quotes: Mapped[int | None] = mapped_column(default=None)
    impressions: Mapped[int | None] = mapped_column(default=None)
