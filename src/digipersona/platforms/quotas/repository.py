"""Counting quota use in the database (``QuotaCounter``), so every process shares the counts."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from digipersona.db import write_scope
from digipersona.models import QuotaCounter
from digipersona.platforms.quotas.rules import QuotaExceeded, QuotaRule


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
