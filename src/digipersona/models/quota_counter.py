from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base


class QuotaCounter(Base):
    """Calls counted in one window of one quota (per connection or per app)."""

    __tablename__ = "quota_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
