"""Time helpers: everything is timezone-aware UTC inside the process."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Return ``value`` as aware UTC; naive values are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def isoformat_z(value: datetime) -> str:
    """ISO-8601 in UTC with a trailing Z (what APIs and the iCalendar feed show)."""
    return ensure_utc(value).isoformat().replace("+00:00", "Z")
