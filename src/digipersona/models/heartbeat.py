from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base


class Heartbeat(Base):
    """Last sign of life of a scheduler or worker process."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    beat_at: Mapped[datetime]
