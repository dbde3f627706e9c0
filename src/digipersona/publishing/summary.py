"""The daily publication summary (``analytics_days``): its SQL and its arithmetic.

One row per (workspace, persona, platform, persona-local day) with what was published that
day and the figures of each publication's latest metrics reading, so the analytics page reads
a few hundred small rows instead of every publication of its range and their readings.

It is kept by recomputing a whole day from its publications whenever one of them changes:
``refresh`` is called where publications are recorded as published (the engine) and where
metrics readings are stored (the metrics sync), and when a post is deleted. Recomputing (not
incrementing) keeps it right when the same success is recorded twice. A persona's time zone
change is noticed by the reader (rows carry the zone they were computed in), which rebuilds
that persona with ``rebuild``. It lives here, below analytics, because the engine keeps it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from digipersona.publishing import repository

FIELDS = repository.READING_FIELDS
ENGAGEMENT_FIELDS = ("likes", "reposts", "replies", "quotes")
SUMS = (*FIELDS, "engagements")
# Each day keeps its most engaging publications; the page shows the top 5 of a range.
TOP_KEEP = 5
UTC = ZoneInfo("UTC")
# The advisory lock a rebuild holds alone and refreshes share (see ``_lock``).
EVERY_DAY = 0x616E616C79746963  # "analytic"

DayKey = tuple[uuid.UUID, uuid.UUID, str, date]  # workspace, persona, platform, local day


def zone_of(name: str | None) -> ZoneInfo:
    """The persona's zone; an unknown name counts as UTC (as everywhere in analytics)."""
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):
        return UTC


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant ``day`` starts in ``zone``."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


@dataclass
class Day:
    """What one (persona, platform) published on one local day, summed."""

    posts: int = 0
    measured: int = 0
    sums: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SUMS, 0))
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SUMS, 0))
    # local hour -> engagement -> publications
    hours: dict[int, Counter[int]] = field(default_factory=dict)
    # (engagement, published_at, publication id), most engaging first
    top: list[tuple[int, datetime, uuid.UUID]] = field(default_factory=list)

    def add(
        self,
        local_hour: int,
        published_at: datetime,
        publication_id: uuid.UUID,
        figures: Sequence[int | None] | None,
    ) -> None:
        """Count one publication; ``figures`` of its latest reading (``None``: none yet)."""
        self.posts += 1
        if figures is None:
            return
        self.measured += 1
        for name, value in zip(FIELDS, figures, strict=True):
            if value is not None:
                self.sums[name] += value
                self.counts[name] += 1
        provided = [v for v in figures[:4] if v is not None]
        if not provided:
            return
        engagement = sum(provided)
        self.sums["engagements"] += engagement
        self.counts["engagements"] += 1
        self.hours.setdefault(local_hour, Counter())[engagement] += 1
        self.top.append((engagement, published_at, publication_id))
        self.top.sort(key=top_order)
        del self.top[TOP_KEEP:]

    def merge(self, other: Day) -> None:
        self.posts += other.posts
        self.measured += other.measured
        for name in SUMS:
            self.sums[name] += other.sums[name]
            self.counts[name] += other.counts[name]
        for hour, values in other.hours.items():
            self.hours.setdefault(hour, Counter()).update(values)
        if other.top:  # only the best TOP_KEEP can be in any range's top
            self.top = sorted([*self.top, *other.top], key=top_order)[:TOP_KEEP]

    def values(self) -> dict[str, Any]:
        """The row's columns (without keys)."""
        row: dict[str, Any] = {"posts": self.posts, "measured": self.measured}
        for name in SUMS:
            row[name] = self.sums[name]
            row[f"{name}_n"] = self.counts[name]
        row["hours"] = {
            str(h): {str(e): n for e, n in sorted(c.items())} for h, c in sorted(self.hours.items())
        }
        row["top"] = [[e, at.isoformat(), str(pid)] for e, at, pid in self.top]
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Day:
        """A summary row's columns (a dict) as a ``Day``."""
        day = cls(posts=row["posts"], measured=row["measured"])
        day.sums = {name: row[name] for name in SUMS}
        day.counts = {name: row[f"{name}_n"] for name in SUMS}
        day.hours = {
            int(h): Counter({int(e): n for e, n in c.items()})
            for h, c in (row["hours"] or {}).items()
        }
        day.top = [
            (int(e), datetime.fromisoformat(at), uuid.UUID(pid)) for e, at, pid in row["top"] or []
        ]
        return day


def top_order(item: tuple[int, datetime, uuid.UUID]) -> tuple[int, float, int]:
    """Most engaging first, then the newest, then by id (the order of the top-posts query)."""
    engagement, published_at, publication_id = item
    return (-engagement, -published_at.timestamp(), publication_id.int)


def accumulate(rows: Iterable[Any], zones: dict[uuid.UUID, ZoneInfo]) -> dict[DayKey, Day]:
    """``source_rows`` summed per (workspace, persona, platform, persona-local day)."""
    days: dict[DayKey, Day] = {}
    for row in rows:
        local = row[3].astimezone(zones.get(row[1], UTC))
        key = (row[0], row[1], row[2], local.date())
        day = days.get(key)
        if day is None:
            day = days[key] = Day()
        day.add(local.hour, row[3], row[10], tuple(row[5:10]) if row[4] else None)
    return days


def zones_of(session: Session, persona_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, ZoneInfo]:
    ids = list(set(persona_ids))
    if not ids:
        return {}
    return {pid: zone_of(name) for pid, name in repository.persona_timezones(session, ids)}


def _write(session: Session, days: dict[DayKey, Day], zones: dict[uuid.UUID, ZoneInfo]) -> None:
    values = [
        {
            "id": uuid.uuid4(),
            "workspace_id": ws,
            "persona_id": persona,
            "platform": platform,
            "day": day,
            "timezone": zones.get(persona, UTC).key,
            **summed.values(),
        }
        for (ws, persona, platform, day), summed in days.items()
        if summed.posts
    ]
    repository.insert_summary_days(session, values)


def keys_of_post(session: Session, post_id: uuid.UUID) -> set[DayKey]:
    """The summary days the post's publications count in (call before deleting it)."""
    return _keys(repository.publication_days_of_post(session, post_id))


def keys_of(session: Session, publication_ids: Sequence[uuid.UUID]) -> set[DayKey]:
    """The summary days these publications count in (those with a publication time)."""
    if not publication_ids:
        return set()
    return _keys(repository.publication_days_of(session, publication_ids))


def _keys(rows: Iterable[tuple[Any, ...]]) -> set[DayKey]:
    return {
        (ws, persona, platform, at.astimezone(zone_of(tz)).date())
        for ws, persona, platform, at, tz in rows
        if at is not None
    }


def refresh(session: Session, publication_ids: Sequence[uuid.UUID]) -> None:
    """Recompute the summary days of these publications (after they were published, read or
    are about to be deleted: pass ``keys_of`` before deleting, then ``refresh_days``)."""
    refresh_days(session, keys_of(session, publication_ids))


def refresh_days(session: Session, keys: set[DayKey]) -> None:
    """Recompute these summary days from their publications: 4 statements for any number.

    Two transactions recomputing the same day (two workers publishing a persona's posts of
    one day, or a worker and the metrics sync) would each delete the row and insert their
    own: the second insert broke the unique key and rolled back the whole recording of a
    sent post. So each day is first locked for the rest of the transaction (``_lock``) and
    read only then, when the other's publications are committed and visible.
    """
    if not keys:
        return
    session.flush()
    _lock(session, keys)
    zones = zones_of(session, {k[1] for k in keys})
    windows = []
    for ws, persona, platform, day in keys:
        zone = zones.get(persona, UTC)
        start, end = midnight(day, zone), midnight(day + timedelta(days=1), zone)
        windows.append((ws, persona, platform, start, end))
    days = accumulate(repository.published_in_windows(session, windows), zones)
    repository.delete_summary_days(session, keys)
    _write(session, {k: v for k, v in days.items() if k in keys}, zones)


def _lock(session: Session, keys: set[DayKey] | None) -> None:
    """Lock summary days until the transaction ends (PostgreSQL advisory locks; SQLite has
    one writer at a time). ``None``: every day, for a rebuild, which excludes all refreshes;
    refreshes share that lock and take one per day, always in the same order (so two never
    wait on each other crosswise)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    if keys is None:
        repository.advisory_xact_lock(session, EVERY_DAY)
        return
    repository.advisory_xact_lock(session, EVERY_DAY, shared=True)
    for number in sorted({_lock_number(key) for key in keys}):
        repository.advisory_xact_lock(session, number)


def _lock_number(key: DayKey) -> int:
    """A stable signed 64-bit number for a summary day (the advisory lock's key)."""
    ws, persona, platform, day = key
    digest = hashlib.blake2b(
        f"analytics_days:{ws}:{persona}:{platform}:{day}".encode(), digest_size=8
    )
    return int.from_bytes(digest.digest(), "big", signed=True)


def rebuild(
    session: Session, workspace_id: uuid.UUID | None = None, persona_id: uuid.UUID | None = None
) -> int:
    """Recompute every summary day (of one workspace or one persona); returns the rows."""
    _lock(session, None)
    rows = repository.published_of(session, workspace_id, persona_id)
    zones = zones_of(session, {row[1] for row in rows})
    days = accumulate(rows, zones)
    repository.delete_summary_scope(session, workspace_id, persona_id)
    _write(session, days, zones)
    return len(days)
