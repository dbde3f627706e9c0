from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, IdMixin, TimestampMixin


class Workspace(IdMixin, TimestampMixin, Base):
    __tablename__ = "workspaces"

    name: Mapped[str] = mapped_column(String(200))
    # SHA-256 of the secret in the iCalendar feed URL; None when the feed is off.
    ical_token_hash: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
