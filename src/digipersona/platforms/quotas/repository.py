"""Per-connection and per-app quotas, counted in the database so every process shares them.

Windows are fixed and aligned (LinkedIn's daily counters reset at 00:00 UTC, X counts 15-minute
windows). A publication that would exceed a quota is not failed: it waits for the window's end.
Counting is all-or-nothing across the rules of one publish (one savepoint). Reads that come in
batches (metrics, comment polling) use ``admit`` instead: as much of a batch as the window still
has room for, so a quota smaller than a batch, or a partly spent window, is used rather than
the whole batch waiting for a window it can never fit in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from digipersona.config import Settings
from digipersona.db import write_scope
from digipersona.models import QuotaCounter


@dataclass(frozen=True)
class QuotaRule:
    name: str
    scope: str  # "connection" or "app"
    window_seconds: int
    limit: int

    def key(self, platform: str, connection_id: uuid.UUID) -> str:
        owner = str(connection_id) if self.scope == "connection" else "app"
        return f"{platform}:{self.name}:{owner}"

    def window_start(self, now: datetime) -> datetime:
        epoch = int(now.timestamp())
        return datetime.fromtimestamp(epoch - epoch % self.window_seconds, UTC)

    def window_end(self, now: datetime) -> datetime:
        return self.window_start(now) + timedelta(seconds=self.window_seconds)


DAY = 86400


def rules_for(platform: str, settings: Settings) -> list[QuotaRule]:
    """The quota rules of a platform, from settings (0 disables one)."""
    table: dict[str, list[QuotaRule]] = {
        "linkedin": [
            QuotaRule(
                "member_posts", "connection", DAY, settings.quota_linkedin_member_posts_per_day
            ),
            QuotaRule("app_posts", "app", DAY, settings.quota_linkedin_app_posts_per_day),
            QuotaRule("app_requests", "app", DAY, settings.quota_linkedin_app_requests_per_day),
        ],
        "x": [
            QuotaRule("user_posts", "connection", 900, settings.quota_x_user_posts_per_15min),
            QuotaRule("app_posts", "app", DAY, settings.quota_x_app_posts_per_day),
        ],
        "bluesky": [
            QuotaRule(
                "account_posts", "connection", 3600, settings.quota_bluesky_account_posts_per_hour
            )
        ],
        "webhook": [
            QuotaRule("posts", "connection", 60, settings.quota_webhook_posts_per_minute),
        ],
    }
    return [rule for rule in table.get(platform, []) if rule.limit > 0]


def rule_named(platform: str, name: str, settings: Settings) -> QuotaRule | None:
    """One rule of a platform, ``None`` when it is disabled (0) or unknown."""
    return next((r for r in rules_for(platform, settings) if r.name == name), None)


class QuotaExceeded(Exception):
    """Consuming would exceed ``rule``; try again at ``retry_at``."""

    def __init__(self, rule: QuotaRule, retry_at: datetime) -> None:
        super().__init__(f"{rule.name} quota reached until {retry_at.isoformat()}")
        self.rule = rule
        self.retry_at = retry_at


def consume(
    session: Session,
    rules: list[QuotaRule],
    *,
    platform: str,
    connection_id: uuid.UUID,
    now: datetime,
    cost: int = 1,
) -> None:
    """Count ``cost`` calls against every rule, or none of them and raise ``QuotaExceeded``."""
    if not rules:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    with session.begin_nested():
        for rule in rules:
            start = rule.window_start(now)
            if cost > rule.limit:
                raise QuotaExceeded(rule, start + timedelta(seconds=rule.window_seconds))
            table = QuotaCounter.__table__
            assert isinstance(table, Table)
            stmt = (
                insert(table)
                .values(key=rule.key(platform, connection_id), window_start=start, count=cost)
                .on_conflict_do_update(
                    index_elements=["key", "window_start"],
                    set_={"count": table.c.count + cost},
                    where=table.c.count + cost <= rule.limit,
                )
                .returning(table.c.count)
            )
            if session.execute(stmt).first() is None:
                raise QuotaExceeded(rule, start + timedelta(seconds=rule.window_seconds))


# How often ``admit`` reads the room again after a concurrent consumer took it first; after
# that it admits nothing (the caller waits for the next window: late, never over).
_ADMIT_TRIES = 5


def admit(
    session: Session,
    rule: QuotaRule,
    *,
    platform: str,
    connection_id: uuid.UUID,
    now: datetime,
    wanted: int,
    unit: int = 1,
) -> int:
    """Count as many of ``wanted`` items (``unit`` calls each) as ``rule``'s current window has
    room for; how many were counted (0: not even one fits, nothing is counted).

    The room is read, then counted through ``consume``'s conditional update: a concurrent
    consumer can only make that count fail (the room is read again), never overfill the window.
    """
    unit = max(1, unit)
    start = rule.window_start(now)
    for _ in range(_ADMIT_TRIES):
        # A column select, not ``session.get``: the identity map would keep a stale count.
        used = session.scalar(
            select(QuotaCounter.count).where(
                QuotaCounter.key == rule.key(platform, connection_id),
                QuotaCounter.window_start == start,
            )
        )
        fits = min(wanted, (rule.limit - (used or 0)) // unit)
        if fits <= 0:
            return 0
        try:
            consume(
                session,
                [rule],
                platform=platform,
                connection_id=connection_id,
                now=now,
                cost=fits * unit,
            )
        except QuotaExceeded:
            continue
        return fits
    return 0


def usage(
    session: Session, rule: QuotaRule, platform: str, connection_id: uuid.UUID, now: datetime
) -> int:
    """How much of ``rule``'s current window is used."""
    row = session.get(QuotaCounter, (rule.key(platform, connection_id), rule.window_start(now)))
    return row.count if row else 0


def linkedin_read_quota(settings: Settings, platform: str) -> QuotaRule | None:
    """The app request quota LinkedIn reads (metrics, comments) count against; ``None`` when
    the platform is not LinkedIn or the quota is off."""
    if platform != "linkedin":
        return None
    return rule_named("linkedin", "app_requests", settings)


def linkedin_reads_spent(rule: QuotaRule, now: datetime, *, reading: str, shared: str) -> str:
    """Why LinkedIn ``reading`` waits: the app's daily requests (shared with ``shared``) are
    used up until the window ends."""
    return (
        "LinkedIn's daily request budget for this app is used up "
        f"(DIGIPERSONA_QUOTA_LINKEDIN_APP_REQUESTS_PER_DAY={rule.limit}, shared with {shared}); "
        f"{reading} are read again after {rule.window_end(now):%Y-%m-%d %H:%M} UTC."
    )


def admit_linkedin_reads(
    factory: sessionmaker[Session],
    rule: QuotaRule,
    connection_id: uuid.UUID,
    now: datetime,
    *,
    wanted: int,
    unit: int = 1,
) -> int:
    """``admit`` in a unit of work of its own: how many of ``wanted`` reads were counted."""
    with write_scope(factory) as session:
        return admit(
            session,
            rule,
            platform="linkedin",
            connection_id=connection_id,
            now=now,
            wanted=wanted,
            unit=unit,
        )
