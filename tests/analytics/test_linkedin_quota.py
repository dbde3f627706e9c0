"""LinkedIn metrics reads count against the app's daily request quota, like polling does."""

from __future__ import annotations

from datetime import timedelta

from digipersona.analytics.sync import SyncReport, sync_metrics
from digipersona.db import write_scope
from digipersona.publishing import quotas
from tests.analytics.conftest import LINKEDIN_ANALYTICS_SCOPES, World
from tests.analytics.test_sync import schedule, snapshots

LIMIT = 20


def _sync(world: World) -> SyncReport:
    settings = world.runtime.settings.model_copy(
        update={"quota_linkedin_app_requests_per_day": LIMIT}
    )
    return sync_metrics(
        world.runtime.factory,
        world.cipher,
        world.runtime.engine.provider,
        world.clock,
        settings=settings,
    )


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
