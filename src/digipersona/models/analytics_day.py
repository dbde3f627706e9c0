from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, IdMixin


class AnalyticsDay(IdMixin, Base):
    """What one persona published on one platform on one local day, with the figures of each
    publication's latest metrics reading summed (``publishing/summary.py`` keeps it up to date).

    A sum with a zero count (``likes_n == 0``) means no publication provided that figure (shown
    as "not provided", never as a zero). ``hours`` holds, per local hour, how many publications
    had each engagement value (``{"9": {"12": 2}}``), so medians over any range stay exact;
    ``top`` the day's most engaging publications as ``[engagement, published_at, id]``.
    ``timezone`` is the persona's zone the local day was computed in.
    """

    __tablename__ = "analytics_days"
    __table_args__ = (
        UniqueConstraint("workspace_id", "persona_id", "platform", "day"),
        Index("ix_analytics_days_workspace_day", "workspace_id", "day"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    persona_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("personas.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(20))
    day: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64))
    posts: Mapped[int] = mapped_column(default=0)
    measured: Mapped[int] = mapped_column(default=0)
    likes: Mapped[int] = mapped_column(BigInteger, default=0)
    likes_n: Mapped[int] = mapped_column(default=0)
    reposts: Mapped[int] = mapped_column(BigInteger, default=0)
    reposts_n: Mapped[int] = mapped_column(default=0)
    replies: Mapped[int] = mapped_column(BigInteger, default=0)
    replies_n: Mapped[int] = mapped_column(default=0)
    quotes: Mapped[int] = mapped_column(BigInteger, default=0)
    quotes_n: Mapped[int] = mapped_column(default=0)
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    impressions_n: Mapped[int] = mapped_column(default=0)
    engagements: Mapped[int] = mapped_column(BigInteger, default=0)
    engagements_n: Mapped[int] = mapped_column(default=0)
    hours: Mapped[dict[str, Any]] = mapped_column(default=dict)
    top: Mapped[list[Any]] = mapped_column(default=list)
