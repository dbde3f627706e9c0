"""LinkedIn metrics reads count against the app's daily request quota, like polling does."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from digipersona.analytics.sync import SyncReport, sync_metrics
from digipersona.db import write_scope
from digipersona.platforms import quotas
from digipersona.platforms.linkedin.provider import LinkedInProvider
from digipersona.platforms.quotas import repository as quota_counts
from tests.analytics.conftest import LINKEDIN_ANALYTICS_SCOPES, World
from tests.analytics.test_sync import schedule, snapshots

LIMIT = 20


def _sync(world: World) -> SyncReport:
    return _sync_with(world, LIMIT)


def _rule(world: World) -> quotas.QuotaRule:
    settings = world.runtime.settings.model_copy(
        update={"quota_linkedin_app_requests_per_day": LIMIT}
    )
    [rule] = [r for r in quotas.rules_for("linkedin", settings) if r.name == "app_requests"]
    return rule


def _used(world: World) -> int:
    with world.runtime.factory() as s:
        conn = world.connections["linkedin"]
        return quotas.usage(s, _rule(world), "linkedin", conn, world.clock.now)


def _analytics_reads(world: World) -> int:
    return len(
        [r for r in world.linkedin.requests if r.raw_path == "/rest/memberCreatorPostAnalytics"]
    )


def test_reads_are_counted_and_wait_for_the_window_when_spent(world: World) -> None:
    conn = world.add_connection(
        "linkedin", world.li_token, LINKEDIN_ANALYTICS_SCOPES, world.linkedin.consenting.urn
    )
    # Early in a UTC day, so the day's quota window spans the readings below.
    start = (world.clock.now + timedelta(days=1)).replace(hour=1, minute=0, second=0)
    world.clock.set(start)
    first = world.linkedin_post("First LinkedIn post")
    a = world.published("linkedin", first, at=start)
    world.linkedin.set_post_analytics(first, IMPRESSION=10, REACTION=1, COMMENT=0, RESHARE=0)
    _sync(world)
    world.clock.set(start + timedelta(hours=1))
    assert _sync(world).snapshots == 1
    # Four requests per post (one per queryType), all counted.
    assert _analytics_reads(world) == 4 and _used(world) == 4

    # Publishing and polling have used most of today's budget meanwhile.
    with write_scope(world.runtime.factory) as s:
        quotas.consume(
            s, [_rule(world)], platform="linkedin", connection_id=conn, now=world.clock.now, cost=14
        )
    second = world.linkedin_post("Second LinkedIn post")
    b = world.published("linkedin", second, at=world.clock.now)
    world.clock.set(start + timedelta(hours=6))  # a's 6 h reading and b's 1 h: 8 requests, 2 left
    report = _sync(world)
    assert report.snapshots == 0 and report.waiting == 2
    assert _analytics_reads(world) == 4  # nothing was read
    window_end = _rule(world).window_start(world.clock.now) + timedelta(days=1)
    for pub in (a, b):
        row = schedule(world, pub)
        assert row.next_sync_at == window_end
        assert "daily request budget" in (row.last_error or "")

    # The next UTC day the quota is fresh: both are read and counted again.
    world.clock.set(window_end)
    assert _sync(world).snapshots == 2
    assert _analytics_reads(world) == 12 and _used(world) == 8
    assert len(snapshots(world, a)) == 2 and len(snapshots(world, b)) == 1


def _sync_with(world: World, limit: int) -> SyncReport:
    settings = world.runtime.settings.model_copy(
        update={"quota_linkedin_app_requests_per_day": limit}
    )
    return sync_metrics(
        world.runtime.factory,
        world.cipher,
        world.runtime.engine.provider,
        world.clock,
        settings=settings,
    )


def _used_of(world: World, limit: int) -> int:
    rule = quotas.QuotaRule("app_requests", "app", quotas.DAY, limit)
    with world.runtime.factory() as s:
        return quotas.usage(s, rule, "linkedin", world.connections["linkedin"], world.clock.now)


def _linkedin_posts(world: World, count: int) -> list[uuid.UUID]:
    pubs = []
    for n in range(count):
        urn = world.linkedin_post(f"LinkedIn post {n}")
        world.linkedin.set_post_analytics(urn, IMPRESSION=10 + n, REACTION=n)
        pubs.append(world.published("linkedin", urn, at=world.clock.now))
    return pubs


@pytest.mark.parametrize(("fits", "due"), [(3, 5), (12, 15)])
def test_a_quota_smaller_than_a_batch_reads_what_fits_and_the_rest_next_window(
    world: World, fits: int, due: int
) -> None:
    """With room for ``fits`` posts a day (four requests each) and ``due`` posts due, exactly
    ``fits`` are read, the rest wait for the next UTC day and are read then; a window is never
    exceeded. (3, 5): the quota is smaller than one batch of ten posts; (12, 15): two batches,
    the second only partly admitted."""
    per_post = LinkedInProvider.metrics_requests_per_post
    limit = fits * per_post
    world.add_connection(
        "linkedin", world.li_token, LINKEDIN_ANALYTICS_SCOPES, world.linkedin.consenting.urn
    )
    start = (world.clock.now + timedelta(days=1)).replace(hour=20, minute=0, second=0)
    world.clock.set(start)
    pubs = _linkedin_posts(world, due)
    assert _sync_with(world, limit).scheduled == due

    world.clock.set(start + timedelta(hours=1))  # every post's 1 h reading is due
    report = _sync_with(world, limit)
    assert (report.snapshots, report.waiting) == (fits, due - fits)
    assert _analytics_reads(world) == limit and _used_of(world, limit) == limit
    window_end = start.replace(hour=0) + timedelta(days=1)
    waiting = [p for p in pubs if not snapshots(world, p)]
    assert len(waiting) == due - fits
    for pub in waiting:
        row = schedule(world, pub)
        assert row.next_sync_at == window_end
        assert "DIGIPERSONA_QUOTA_LINKEDIN_APP_REQUESTS_PER_DAY" in (row.last_error or "")
    # Later the same day nothing more is read: the window is spent.
    world.clock.set(start + timedelta(hours=3))
    assert _sync_with(world, limit).snapshots == 0
    assert _analytics_reads(world) == limit

    # The next UTC day the waiting ones are read (the others' 6 h reading is not due yet).
    world.clock.set(window_end)
    report = _sync_with(world, limit)
    assert (report.snapshots, report.waiting) == (due - fits, 0)
    assert _used_of(world, limit) == (due - fits) * per_post
    assert all(len(snapshots(world, p)) == 1 for p in pubs)

    # At 02:00 all are due for their 6 h reading: what is left of the day's window is used.
    world.clock.set(start + timedelta(hours=6))
    left = fits - (due - fits)
    report = _sync_with(world, limit)
    assert (report.snapshots, report.waiting) == (left, due - left)
    assert _used_of(world, limit) == limit
    assert _analytics_reads(world) == 2 * limit  # each window's reads: exactly its quota


def test_a_quota_too_small_for_one_post_waits_and_names_the_setting(world: World) -> None:
    per_post = LinkedInProvider.metrics_requests_per_post
    world.add_connection(
        "linkedin", world.li_token, LINKEDIN_ANALYTICS_SCOPES, world.linkedin.consenting.urn
    )
    start = (world.clock.now + timedelta(days=1)).replace(hour=1, minute=0, second=0)
    world.clock.set(start)
    [pub] = _linkedin_posts(world, 1)
    _sync_with(world, per_post - 1)
    world.clock.set(start + timedelta(hours=1))
    report = _sync_with(world, per_post - 1)
    assert (report.snapshots, report.waiting) == (0, 1)
    assert _analytics_reads(world) == 0 and _used_of(world, per_post - 1) == 0
    row = schedule(world, pub)
    assert row.next_sync_at == start.replace(hour=0) + timedelta(days=1)
    assert row.stopped_reason is None  # it resumes once the operator raises the quota
    assert "DIGIPERSONA_QUOTA_LINKEDIN_APP_REQUESTS_PER_DAY" in (row.last_error or "")
    assert f"{per_post} requests" in (row.last_error or "")

    # The operator raises it: the next window reads the post.
    world.clock.set(start.replace(hour=0) + timedelta(days=1))
    assert _sync_with(world, per_post).snapshots == 1
    assert _analytics_reads(world) == per_post


def test_a_quota_of_zero_is_no_quota(world: World) -> None:
    """``0`` disables a quota (docs/configuration.md): reads are neither held nor counted."""
    world.add_connection(
        "linkedin", world.li_token, LINKEDIN_ANALYTICS_SCOPES, world.linkedin.consenting.urn
    )
    pubs = _linkedin_posts(world, 3)
    _sync_with(world, 0)
    world.clock.advance(hours=1)
    assert _sync_with(world, 0).snapshots == 3
    assert all(len(snapshots(world, p)) == 1 for p in pubs)


def test_admit_counts_what_fits_and_rereads_the_room_after_a_race(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    rule = quotas.QuotaRule("app_requests", "app", quotas.DAY, 10)
    conn = world.add_connection(
        "linkedin", world.li_token, LINKEDIN_ANALYTICS_SCOPES, world.linkedin.consenting.urn
    )
    now = world.clock.now

    def admit(wanted: int, unit: int) -> int:
        with write_scope(world.runtime.factory) as s:
            return quotas.admit(
                s, rule, platform="linkedin", connection_id=conn, now=now, wanted=wanted, unit=unit
            )

    assert admit(3, 4) == 2 and _used_of(world, 10) == 8  # two posts of four requests fit
    assert admit(1, 4) == 0 and _used_of(world, 10) == 8  # nothing is counted when none fits
    # Another process takes one request between admit's reading of the room and its count:
    # the count fails, the room is read again, and the window is not overfilled.
    original = quota_counts.consume
    raced = []

    def consume_after_a_rival(session: Any, rules: Any, **kwargs: Any) -> None:
        if not raced:
            raced.append(True)
            original(session, rules, **{**kwargs, "cost": 1})
        original(session, rules, **kwargs)

    monkeypatch.setattr(quota_counts, "consume", consume_after_a_rival)
    assert admit(5, 1) == 1 and _used_of(world, 10) == 10
