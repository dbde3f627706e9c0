"""The analytics overview read from the daily summary (``analytics_days``) answers exactly what
summing every publication of the range answered (tests/analytics/old_overview.py), on SQLite and
PostgreSQL; the summary follows publications and readings as they are recorded, a post's
deletion and a persona's time-zone change; its cost does not grow with history."""

from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from digipersona.analytics import overview
from digipersona.kit.time import utcnow
from digipersona.models import (
    AnalyticsDay,
    Connection,
    MetricSnapshot,
    Persona,
    Post,
    Publication,
)
from digipersona.publishing import summary
from tests.analytics import old_overview
from tests.analytics.test_api import persona
from tests.conftest import Actor
from tests.kit.test_keyset_lists import plan, recorded
from tests.test_write_queue import wait_until

ZONES = ("Europe/Berlin", "Asia/Kolkata", "America/New_York", "UTC")
PLATFORMS = ("x", "bluesky", "linkedin")


def seed(
    factory: sessionmaker[Session],
    owner: Actor,
    personas: list[str],
    n: int,
    *,
    days: int,
    rng: random.Random,
    end: datetime,
) -> list[uuid.UUID]:
    """``n`` publications over the ``days`` before ``end``: some unread, some with partial
    figures, some read twice (the latest counts), a few not published; returns their ids."""
    ws = owner.workspace_id
    connections = {}
    posts, pubs, snaps = [], [], []
    with factory.begin() as s:
        for pid in personas:
            for platform in PLATFORMS:
                conn = Connection(
                    workspace_id=ws,
                    persona_id=uuid.UUID(pid),
                    platform=platform,
                    account_id=f"acct-{uuid.uuid4().hex[:8]}",
                    access_token_enc="x",
                )
                s.add(conn)
                s.flush()
                connections[(pid, platform)] = conn.id
    for i in range(n):
        pid, platform = rng.choice(personas), rng.choice(PLATFORMS)
        at = end - timedelta(seconds=rng.randrange(days * 86400))
        if i % 17 == 0:  # ties on one instant, ranked by id
            at = end - timedelta(days=days // 2)
        post_id, pub_id = uuid.uuid4(), uuid.uuid4()
        published = i % 23 != 0
        posts.append(
            {
                "id": post_id,
                "workspace_id": ws,
                "persona_id": uuid.UUID(pid),
                "body": f"post {i}\nsecond line",
                "status": "published",
                "platforms": [platform],
                "created_at": at,
                "updated_at": at,
            }
        )
        pubs.append(
            {
                "id": pub_id,
                "workspace_id": ws,
                "post_id": post_id,
                "connection_id": connections[(pid, platform)],
                "platform": platform,
                "scheduled_at": at,
                "next_attempt_at": at,
                "state": "published" if published else "failed",
                "published_at": at if published else None,
                "idempotency_key": uuid.uuid4().hex,
                "external_id": str(i),
                "external_url": f"https://example.com/{i}",
                "created_at": at,
                "updated_at": at,
            }
        )
        for stage in range(i % 3):  # 0, 1 or 2 readings
            figures: dict[str, int | None] = {
                "likes": rng.randrange(40) + stage,
                "reposts": rng.randrange(5),
                "replies": rng.randrange(3),
                "quotes": rng.randrange(2),
                "impressions": rng.randrange(2000),
            }
            if i % 5 == 0:
                figures.update(impressions=None, quotes=None)
            if i % 11 == 0:
                figures = dict.fromkeys(figures)
                figures["impressions"] = rng.randrange(500)
            snaps.append(
                {
                    "id": uuid.uuid4(),
                    "workspace_id": ws,
                    "publication_id": pub_id,
                    "taken_at": at + timedelta(hours=1 + 5 * stage),
                    "stage": stage,
                    **figures,
                }
            )
    with factory.begin() as s:
        s.execute(insert(Post), posts)
        s.execute(insert(Publication), pubs)
        if snaps:
            s.execute(insert(MetricSnapshot), snaps)
    return [p["id"] for p in pubs]


def principal(owner: Actor) -> Any:
    """What the overview reads of the principal: its workspace."""
    return SimpleNamespace(workspace_id=owner.workspace_id)


def compare(factory: sessionmaker[Session], owner: Actor, **query: Any) -> dict[str, Any]:
    with factory() as s:
        new = overview.workspace_analytics(s, principal(owner), **query)
        old = old_overview.workspace_analytics(s, owner.workspace_id, **query)
    assert new == old, query
    return new


def ranges(personas: list[str], end: datetime) -> list[dict[str, Any]]:
    odd = end - timedelta(hours=7, minutes=13)
    return [
        {"start": end - timedelta(days=90), "end": end},
        {"start": odd - timedelta(days=366), "end": odd},  # weekly trend
        {"start": odd - timedelta(days=3, hours=5), "end": odd},  # short: no whole day
        {"start": odd - timedelta(days=20), "end": odd, "persona_id": uuid.UUID(personas[1])},
        {"start": odd - timedelta(days=200), "end": odd, "platform": "bluesky"},
        {
            "start": datetime(2026, 3, 1, tzinfo=UTC),
            "end": datetime(2026, 11, 2, 1, 30, tzinfo=UTC),  # across both DST changes
            "persona_id": uuid.UUID(personas[2]),
            "platform": "x",
        },
        {"start": end - timedelta(days=30), "end": end, "top": 2},
    ]


def test_summary_answers_what_the_sum_over_publications_answered(
    owner: Actor, session_factory: sessionmaker[Session]
) -> None:
    rng = random.Random(16)
    end = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    personas = [persona(owner, tz) for tz in ZONES]
    first = seed(session_factory, owner, personas, 900, days=420, rng=rng, end=end)
    with session_factory.begin() as s:  # the migration's backfill
        summary.rebuild(s)
    for query in ranges(personas, end):
        result = compare(session_factory, owner, **query)
        assert result["posts"] > 0, query
    full = compare(session_factory, owner, start=end - timedelta(days=300), end=end)
    assert full["best_times"]["enough_data"] and len(full["top_posts"]) == 5

    # Recorded afterwards the way the engine and the metrics sync record them.
    later = seed(session_factory, owner, personas, 150, days=400, rng=rng, end=end)
    with session_factory.begin() as s:
        summary.refresh(s, later)
        # A reading of an older publication moves its day's figures and maybe its top.
        s.add(
            MetricSnapshot(
                workspace_id=owner.workspace_id,
                publication_id=first[1],
                taken_at=end,
                stage=4,
                likes=10_000,
                impressions=1,
            )
        )
        summary.refresh(s, [first[1]])
        summary.refresh(s, [first[2], first[2]])  # twice: recomputed, not added again
    for query in ranges(personas, end):
        compare(session_factory, owner, **query)
    with session_factory() as s:
        kept = rows_of(s)
    with session_factory.begin() as s:
        summary.rebuild(s)
    with session_factory() as s:
        assert rows_of(s) == kept  # kept incrementally == summed from scratch


def rows_of(session: Session) -> list[tuple[Any, ...]]:
    table = AnalyticsDay.__table__
    columns = [c for c in table.c if c.name != "id"]
    rows = session.execute(select(*columns).order_by(*columns[:4])).all()
    return [tuple(row) for row in rows]


def test_summary_follows_deletion_and_time_zone_change(
    owner: Actor, session_factory: sessionmaker[Session]
) -> None:
    rng = random.Random(7)
    end = utcnow()
    personas = [persona(owner, tz) for tz in ZONES[:2]]
    seed(session_factory, owner, personas, 200, days=60, rng=rng, end=end)
    with session_factory.begin() as s:
        summary.rebuild(s)
    window = {"start": end - timedelta(days=89), "end": end}
    before = compare(session_factory, owner, **window)

    # A failed post with one published copy is deleted through the service.
    with session_factory() as s:
        post_id = s.scalars(
            select(Publication.post_id).where(
                Publication.workspace_id == owner.workspace_id,
                Publication.state == "published",
                Publication.published_at < end - timedelta(days=10),
            )
        ).first()
    with session_factory.begin() as s:
        s.execute(update(Post).where(Post.id == post_id).values(status="failed"))
    r = owner.client.delete(f"/api/v1/content/{post_id}", headers=owner.headers)
    assert r.status_code == 204, r.text
    after = compare(session_factory, owner, **window)
    assert after["posts"] == before["posts"] - 1

    # The persona moves: its days are summed again in its new zone.
    r = owner.patch(f"/api/v1/personas/{personas[0]}", json={"timezone": "Pacific/Auckland"})
    assert r.status_code == 200, r.text
    compare(session_factory, owner, **window)
    assert owner.get("/api/v1/analytics").status_code == 200  # kept once a request read it
    with session_factory() as s:
        zones = set(
            s.scalars(
                select(AnalyticsDay.timezone).where(
                    AnalyticsDay.persona_id == uuid.UUID(personas[0])
                )
            )
        )
    assert zones == {"Pacific/Auckland"}

    # A deleted persona takes its days along.
    with session_factory.begin() as s:
        s.execute(delete(Persona).where(Persona.id == uuid.UUID(personas[1])))
    with session_factory() as s:
        left = s.scalar(
            select(func.count())
            .select_from(AnalyticsDay)
            .where(AnalyticsDay.persona_id == uuid.UUID(personas[1]))
        )
    assert left == 0


def test_overview_cost_does_not_grow_with_history(
    owner: Actor, session_factory: sessionmaker[Session]
) -> None:
    """The same statements at 60 and at 6,000 publications, and the publications table is
    only read at the two partial days of the range (never the whole range, never a scan)."""
    rng = random.Random(3)
    end = utcnow()
    personas = [persona(owner, tz) for tz in ZONES[:2]]
    engine = session_factory.kw["bind"]

    def run() -> tuple[int, list[tuple[str, Any]]]:
        for params in ({}, {"persona_id": personas[0], "platform": "x"}):
            owner.get("/api/v1/analytics", params=params)  # warm-up
        with recorded(engine) as seen:
            for params in ({}, {"persona_id": personas[0], "platform": "x"}):
                r = owner.get("/api/v1/analytics", params=params)
                assert r.status_code == 200, r.text
        return len(seen), list(seen)

    seed(session_factory, owner, personas, 60, days=85, rng=rng, end=end)
    with session_factory.begin() as s:
        summary.rebuild(s)
    small, _ = run()
    seed(session_factory, owner, personas, 6000, days=85, rng=rng, end=end)
    with session_factory.begin() as s:
        summary.rebuild(s)
    big, seen = run()
    assert big == small
    data = owner.get("/api/v1/analytics").json()
    assert data["posts"] > 5000 and len(data["top_posts"]) == 5
    for statement, params in seen:
        if "FROM publications" not in statement:
            continue
        steps = plan(engine, statement, params)
        assert "SCAN publications" not in steps and "Seq Scan on publications" not in steps, steps
        assert "metric_snapshots" not in steps or "SCAN metric_snapshots" not in steps, steps
    with recorded(engine) as seen:
        owner.get("/api/v1/analytics")
    with session_factory() as s:
        read = 0
        for statement, params in seen:
            if "FROM publications" in statement and "published_at >=" in statement:
                read += len(s.connection().exec_driver_sql(statement, params).all())
    # Two partial days of the range out of 85 days of history: about 2/85 of the rows.
    assert 0 < read < 6060 * 6 / 85, read


def test_the_migration_sums_the_existing_history(
    owner: Actor, session_factory: sessionmaker[Session], database_url: str
) -> None:
    """Upgrading a database that has history fills the summary with what ``rebuild`` sums."""
    from alembic import command

    from digipersona import db

    rng = random.Random(5)
    end = utcnow()
    personas = [persona(owner, tz) for tz in ZONES[:3]]
    seed(session_factory, owner, personas, 300, days=120, rng=rng, end=end)
    with session_factory.begin() as s:
        summary.rebuild(s)
    with session_factory() as s:
        expected = rows_of(s)
    assert len(expected) > 100
    session_factory.kw["bind"].dispose()
    config = db.alembic_config(database_url)
    command.downgrade(config, "1a0a15e70020")
    command.upgrade(config, "head")
    with session_factory() as s:
        assert rows_of(s) == expected
    compare(session_factory, owner, start=end - timedelta(days=90), end=end)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_transactions_recording_the_same_day_wait_for_each_other(
    owner: Actor, session_factory: sessionmaker[Session]
) -> None:
    """Two workers record a persona's posts of one day at once (the scale-out test lost 20
    recordings to it): the second recomputation waits for the first to commit, then counts
    both publications; neither breaks the day's unique key."""
    end = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    pid = persona(owner, "UTC")
    ids = seed(session_factory, owner, [pid], 2, days=1, rng=random.Random(3), end=end)
    with session_factory.begin() as s:
        s.execute(update(Publication).values(state="sending", published_at=None, platform="x"))

    def record(session: Session, publication_id: uuid.UUID) -> None:
        session.execute(
            update(Publication)
            .where(Publication.id == publication_id)
            .values(state="published", published_at=end - timedelta(hours=2))
        )
        summary.refresh(session, [publication_id])

    first = session_factory()
    try:
        record(first, ids[0])
        with ThreadPoolExecutor(1) as pool:
            second = pool.submit(_record_and_commit, session_factory, record, ids[1])
            try:
                wait_until(lambda: _waiting_on_a_lock(session_factory) or second.done(), 60)
                assert not second.done(), second.exception()  # it waits for the first
                first.commit()
            finally:
                first.close()  # lets the second go on (or fail) whatever happened above
            second.result(timeout=60)
    finally:
        first.close()
    with session_factory() as s:
        posts = s.scalars(
            select(AnalyticsDay.posts).where(AnalyticsDay.persona_id == uuid.UUID(pid))
        ).all()
    assert posts == [2]


def _record_and_commit(
    factory: sessionmaker[Session], record: Any, publication_id: uuid.UUID
) -> None:
    with factory.begin() as s:
        record(s, publication_id)


def _waiting_on_a_lock(factory: sessionmaker[Session]) -> bool:
    with factory() as s:
        waiting = s.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
        )
    return bool(waiting)
