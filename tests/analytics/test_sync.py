"""Metrics sync end to end against the X and LinkedIn fakes, through the decaying schedule."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from digipersona.analytics import repository
from digipersona.db import write_scope
from digipersona.models import MetricSnapshot, MetricsSchedule
from tests.analytics.conftest import LINKEDIN_ANALYTICS_SCOPES, World


def snapshots(world: World, publication_id: uuid.UUID) -> list[MetricSnapshot]:
    with world.runtime.factory() as s:
        return list(
            s.scalars(
                select(MetricSnapshot)
                .where(MetricSnapshot.publication_id == publication_id)
                .order_by(MetricSnapshot.taken_at)
            )
        )


def schedule(world: World, publication_id: uuid.UUID) -> MetricsSchedule:
    with world.runtime.factory() as s:
        row = s.scalars(
            select(MetricsSchedule).where(MetricsSchedule.publication_id == publication_id)
        ).one()
        s.expunge(row)
        return row


def metric_reads(world: World) -> list[str]:
    return [r.arg("ids") or "" for r in world.x.requests if r.raw_path == "/2/tweets"]


def test_x_decaying_schedule_history_deleted_and_partial(world: World) -> None:
    start = world.clock.now
    a_id = world.x.seed_post(world.x.me, "First post about platform teams")
    b_id = world.x.seed_post(world.x.me, "Second post, to be deleted")
    a = world.published("x", a_id, at=start)
    b = world.published("x", b_id, at=start)

    report = world.sync()
    assert report.scheduled == 2 and report.claimed == 0
    assert schedule(world, a).next_sync_at == start + timedelta(hours=1)

    # 1 h: both read in ONE batched call.
    world.x.set_metrics(a_id, like_count=3, retweet_count=1, reply_count=2, impression_count=100)
    world.clock.set(start + timedelta(hours=1))
    report = world.sync()
    assert report.snapshots == 2
    assert sorted(metric_reads(world)[-1].split(",")) == sorted([a_id, b_id])
    first = snapshots(world, a)[0]
    assert (first.likes, first.reposts, first.replies, first.quotes, first.impressions) == (
        3,
        1,
        2,
        0,
        100,
    )
    assert schedule(world, a).stage == 1
    assert schedule(world, a).next_sync_at == start + timedelta(hours=6)

    # Nothing due in between: no platform call.
    calls = len(metric_reads(world))
    world.clock.set(start + timedelta(hours=3))
    assert world.sync().claimed == 0
    assert len(metric_reads(world)) == calls

    # 6 h: B is deleted at X. X answers 200 with data for A and a resource-not-found for B.
    world.x.delete_post(b_id)
    world.x.set_metrics(a_id, like_count=7, impression_count=250)
    world.clock.set(start + timedelta(hours=6))
    report = world.sync()
    assert report.snapshots == 1 and report.deleted == 1
    b_schedule = schedule(world, b)
    assert b_schedule.stopped_reason == "deleted" and b_schedule.next_sync_at is None
    assert len(snapshots(world, b)) == 1  # history kept
    assert snapshots(world, a)[-1].likes == 7

    # 24 h, 3 d, 7 d: then the schedule finishes; B is never asked for again.
    for offset in (timedelta(hours=24), timedelta(days=3), timedelta(days=7)):
        world.clock.set(start + offset)
        assert world.sync().snapshots == 1
        assert metric_reads(world)[-1] == a_id
    history = snapshots(world, a)
    assert len(history) == 5
    assert [s.stage for s in history] == [0, 1, 2, 3, 4]
    assert [s.taken_at - start for s in history] == [
        timedelta(hours=1),
        timedelta(hours=6),
        timedelta(hours=24),
        timedelta(days=3),
        timedelta(days=7),
    ]
    assert schedule(world, a).stopped_reason == "finished"
    world.clock.set(start + timedelta(days=30))
    calls = len(metric_reads(world))
    assert world.sync().claimed == 0
    assert len(metric_reads(world)) == calls


def test_late_run_skips_passed_steps(world: World) -> None:
    start = world.clock.now
    post_id = world.x.seed_post(world.x.me, "A post read late")
    pub = world.published("x", post_id, at=start)
    world.sync()
    world.clock.set(start + timedelta(hours=30))  # the 1 h, 6 h and 24 h steps have passed
    assert world.sync().snapshots == 1
    row = schedule(world, pub)
    assert row.stage == 3 and row.next_sync_at == start + timedelta(days=3)


def test_rate_limited_waits_for_reset(world: World) -> None:
    start = world.clock.now
    post_id = world.x.seed_post(world.x.me, "Rate limited read")
    pub = world.published("x", post_id, at=start - timedelta(hours=2))
    world.x.rate_limit_next(path="/2/tweets")
    report = world.sync()
    assert report.waiting == 1 and report.snapshots == 0
    row = schedule(world, pub)
    assert row.stopped_reason is None
    assert row.next_sync_at is not None and row.next_sync_at > start
    assert "rate limit" in (row.last_error or "").lower()
    world.clock.set(row.next_sync_at)
    assert world.sync().snapshots == 1


def test_transient_errors_back_off_then_succeed(world: World) -> None:
    start = world.clock.now
    post_id = world.x.seed_post(world.x.me, "A post during an outage")
    pub = world.published("x", post_id, at=start - timedelta(hours=1))
    world.x.fail_next(503, path="/2/tweets")
    assert world.sync().waiting == 1
    row = schedule(world, pub)
    assert row.attempts == 1 and row.next_sync_at == start + timedelta(minutes=15)
    world.clock.set(start + timedelta(minutes=15))
    assert world.sync().snapshots == 1
    assert schedule(world, pub).attempts == 0


def test_a_reading_without_any_figure_is_retried_not_stored(world: World, monkeypatch: Any) -> None:
    from digipersona.platforms.base import MetricsReading
    from digipersona.platforms.x.provider import XProvider

    start = world.clock.now
    post_id = world.x.seed_post(world.x.me, "A post the platform has not counted yet")
    pub = world.published("x", post_id, at=start - timedelta(hours=1))
    real = XProvider.fetch_metrics
    monkeypatch.setattr(
        XProvider, "fetch_metrics", lambda self, creds, ids: [MetricsReading(i) for i in ids]
    )
    report = world.sync()
    assert report.snapshots == 0 and report.waiting == 1
    assert snapshots(world, pub) == []
    monkeypatch.setattr(XProvider, "fetch_metrics", real)
    world.x.set_metrics(post_id, like_count=2)
    world.clock.set(start + timedelta(minutes=15))
    assert world.sync().snapshots == 1
    assert snapshots(world, pub)[0].likes == 2


def test_two_runs_claim_disjoint_rows(world: World) -> None:
    start = world.clock.now
    for n in range(3):
        post_id = world.x.seed_post(world.x.me, f"post {n}")
        world.published("x", post_id, at=start - timedelta(hours=2))
    world.sync()  # creates the schedule rows and reads them
    world.clock.set(start + timedelta(hours=6))
    factory = world.runtime.factory
    with write_scope(factory) as s:
        first = repository.claim_due(
            s, world.clock.now, world.clock.now + timedelta(minutes=10), 100
        )
    with write_scope(factory) as s:
        second = repository.claim_due(
            s, world.clock.now, world.clock.now + timedelta(minutes=10), 100
        )
    assert len(first) == 3 and second == []


def test_linkedin_without_analytics_permission_is_unsupported(world: World) -> None:
    basic = ("openid", "profile", "email", "w_member_social")
    world.add_connection(
        "linkedin", world.linkedin.issue_token(scopes=basic), basic, world.linkedin.consenting.urn
    )
    urn = world.linkedin_post("A LinkedIn post")
    pub = world.published("linkedin", urn, at=world.clock.now - timedelta(hours=1))
    report = world.sync()
    assert report.unsupported == 1
    row = schedule(world, pub)
    assert row.stopped_reason == "unsupported"
    assert "r_member_postAnalytics" in (row.stopped_note or "")
    assert snapshots(world, pub) == []
    # No call was spent: the missing permission is known from the granted scopes.
    assert not [r for r in world.linkedin.requests if "Analytics" in r.raw_path]


def test_linkedin_member_post_analytics_and_deletion(world: World) -> None:
    world.add_connection(
        "linkedin", world.li_token, LINKEDIN_ANALYTICS_SCOPES, world.linkedin.consenting.urn
    )
    start = world.clock.now
    urn = world.linkedin_post("A LinkedIn post with analytics")
    pub = world.published("linkedin", urn, at=start)
    world.linkedin.set_post_analytics(urn, IMPRESSION=420, REACTION=12, COMMENT=3, RESHARE=2)
    world.sync()
    world.clock.set(start + timedelta(hours=1))
    assert world.sync().snapshots == 1
    snap = snapshots(world, pub)[0]
    assert (snap.impressions, snap.likes, snap.replies, snap.reposts) == (420, 12, 3, 2)
    assert snap.quotes is None  # LinkedIn has no quotes: "not provided", never 0
    reads = [r for r in world.linkedin.requests if r.raw_path == "/rest/memberCreatorPostAnalytics"]
    assert {r.arg("queryType") for r in reads} == {"IMPRESSION", "REACTION", "COMMENT", "RESHARE"}
    assert all(r.header("LinkedIn-Version") and r.arg("aggregation") == "TOTAL" for r in reads)
    assert reads[0].arg("entity") == f"(share:{urn})"

    world.linkedin.delete_post(urn)
    world.clock.set(start + timedelta(hours=6))
    assert world.sync().deleted == 1
    assert schedule(world, pub).stopped_reason == "deleted"
    assert len(snapshots(world, pub)) == 1


def test_publication_without_external_id_is_stopped(world: World) -> None:
    pub = world.published("x", None)
    world.sync()
    assert schedule(world, pub).stopped_reason == "no_external_id"


def test_x_reads_respect_the_monthly_budget(world: World) -> None:
    from digipersona.models import Connection

    start = world.clock.now
    pubs = []
    for n in range(3):
        post_id = world.x.seed_post(world.x.me, f"budget post {n}")
        pubs.append(world.published("x", post_id, at=start - timedelta(hours=1)))
    with world.runtime.factory.begin() as s:
        conn = s.get(Connection, world.connections["x"])
        assert conn is not None
        conn.monthly_budget_usd = 0.012  # three reads cost $0.015
    report = world.sync()
    assert report.snapshots == 0 and report.waiting == 3
    assert metric_reads(world) == []
    row = schedule(world, pubs[0])
    assert "monthly budget" in (row.last_error or "")
    assert row.next_sync_at is not None and row.next_sync_at.day == 1
    with world.runtime.factory.begin() as s:
        conn = s.get(Connection, world.connections["x"])
        assert conn is not None
        conn.monthly_budget_usd = 1.0
    world.clock.set(row.next_sync_at)
    assert world.sync().snapshots == 3
    with world.runtime.factory() as s:
        conn = s.get(Connection, world.connections["x"])
        assert conn is not None and abs(conn.spend_usd - 0.015) < 1e-9


def test_a_run_slower_than_its_lease_records_nothing(world: World) -> None:
    from digipersona.analytics import sync
    from digipersona.platforms.base import MetricsReading

    start = world.clock.now
    post_id = world.x.seed_post(world.x.me, "slow run")
    pub = world.published("x", post_id, at=start - timedelta(hours=2))
    factory = world.runtime.factory
    with write_scope(factory) as s:
        repository.ensure_schedules(s, start)
    with write_scope(factory) as s:
        slow = repository.claim_due(s, start, start + sync.LEASE, 10)
    # The lease runs out; another run claims, reads and records the row.
    world.clock.set(start + sync.LEASE)
    assert world.sync().snapshots == 1
    report = sync.SyncReport()
    sync._record(factory, slow, [MetricsReading(post_id, likes=99)], world.clock.now, report)
    assert report.snapshots == 0
    assert [s.likes for s in snapshots(world, pub)] == [0]
