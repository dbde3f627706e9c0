"""Bluesky metrics end to end against the full local network (PDS + the real AppView): posts
published through the engine, liked and reposted by other accounts, read by the periodic
metrics sync job (with an injected clock) at the 1 h and 6 h steps into snapshots; Bluesky has
no impressions ("n/a", never 0); a deleted post stops syncing and keeps its history."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from digipersona.analytics.tasks import sync_metrics_job
from digipersona.models import MetricSnapshot, MetricsSchedule
from digipersona.worker import jobs, registry, runtime
from tests.analytics.conftest import Clock
from tests.interactions.bluesky import (
    Sky,
    bluesky_env,
    expire_session,
    publish_post,
    stored_access_token,
)
from tests.peers.bsky_network import BskyNetwork
from tests.web.test_shell import web_login

pytestmark = pytest.mark.pds


@pytest.fixture
def sky(bsky_network: BskyNetwork, database_url: str, tmp_path: Any) -> Iterator[Sky]:
    with bluesky_env(bsky_network, database_url, tmp_path) as built:
        yield built


def run_sync_job(sky: Sky, clock: Clock) -> dict[str, int]:
    """The periodic ``analytics.sync_metrics`` job through a worker runtime whose clock is
    the test's (so the 1 h / 6 h steps come without waiting)."""
    jobs.load_all()
    assert registry.TASKS["analytics.sync_metrics"] is sync_metrics_job
    built = runtime.build_runtime(sky.env.settings, factory=sky.env.factory)
    built.engine.clock = clock
    runtime.set_runtime(built)
    try:
        return sync_metrics_job()
    finally:
        runtime.set_runtime(None)
        built.http.close()


def analytics(sky: Sky, post_id: str) -> dict[str, Any]:
    r = sky.env.owner.get(f"/api/v1/content/{post_id}/analytics")
    assert r.status_code == 200, r.text
    [pub] = r.json()["publications"]
    return dict(pub)


def figures(snapshot: dict[str, Any]) -> tuple[Any, ...]:
    keys = ("likes", "reposts", "replies", "quotes", "impressions")
    return tuple(snapshot[k] for k in keys)


def test_likes_and_reposts_from_the_appview_accumulate_and_a_deleted_post_stops(
    sky: Sky,
) -> None:
    net = sky.net
    kept_id, kept_pub, kept = publish_post(sky, "Measured post: what platform teams own.")
    doomed_id, doomed_pub, doomed = publish_post(sky, "Measured post that will be deleted.")
    fan, critic, lurker = (net.create_account(n) for n in ("fan", "critic", "lurker"))
    net.like(fan, kept)
    net.like(critic, kept)
    net.repost(fan, kept)
    net.post(critic, "I disagree a bit", reply_to=kept)
    net.like(fan, doomed)
    net.wait_counts(kept, likeCount=2, repostCount=1, replyCount=1)
    net.wait_counts(doomed, likeCount=1)

    # The schedule is relative to each publication's time, as the engine recorded it.
    start = max(
        datetime.fromisoformat(kept_pub["published_at"]),
        datetime.fromisoformat(doomed_pub["published_at"]),
    )
    clock = Clock(start)
    first = run_sync_job(sky, clock)
    assert (first["scheduled"], first["claimed"], first["snapshots"]) == (2, 0, 0)
    assert analytics(sky, kept_id)["sync"]["state"] == "scheduled"

    # 1 h: both posts read (one getPosts through the PDS to the AppView).
    clock.set(start + timedelta(hours=1))
    report = run_sync_job(sky, clock)
    assert (report["claimed"], report["snapshots"]) == (2, 2)
    body = analytics(sky, kept_id)
    [snap] = body["snapshots"]
    assert figures(snap) == (2, 1, 1, 0, None)  # impressions: not provided, not 0
    assert snap["stage"] == 0
    assert body["provided_fields"] == ["likes", "reposts", "replies", "quotes"]
    assert "impressions" in body["platform_note"]
    assert figures(analytics(sky, doomed_id)["snapshots"][0]) == (1, 0, 0, 0, None)

    # More engagement, then the doomed post is deleted on Bluesky.
    net.like(lurker, kept)
    net.repost(critic, kept)
    net.post(lurker, "Sharing this", quote=kept)
    net.wait_counts(kept, likeCount=3, repostCount=2, quoteCount=1)
    net.delete_post(sky.account, doomed)
    net.wait_gone(doomed)

    # Nothing is due between the steps: no read.
    clock.set(start + timedelta(hours=3))
    assert run_sync_job(sky, clock)["claimed"] == 0

    # 6 h: the kept post gets a second snapshot; the deleted one stops with its history.
    clock.set(start + timedelta(hours=6))
    report = run_sync_job(sky, clock)
    assert (report["claimed"], report["snapshots"], report["deleted"]) == (2, 1, 1)
    body = analytics(sky, kept_id)
    assert [figures(s) for s in body["snapshots"]] == [(2, 1, 1, 0, None), (3, 2, 1, 1, None)]
    assert [s["stage"] for s in body["snapshots"]] == [0, 1]
    assert figures(body["latest"]) == (3, 2, 1, 1, None)
    assert body["sync"]["state"] == "scheduled"
    gone = analytics(sky, doomed_id)
    assert gone["sync"]["state"] == "deleted" and gone["sync"]["next_sync_at"] is None
    assert [figures(s) for s in gone["snapshots"]] == [(1, 0, 0, 0, None)]

    # 24 h: only the kept post is read; the deleted one is never asked for again.
    clock.set(start + timedelta(hours=24))
    report = run_sync_job(sky, clock)
    assert (report["claimed"], report["snapshots"], report["deleted"]) == (1, 1, 0)
    with sky.env.factory() as s:
        stopped = s.scalars(
            select(MetricsSchedule).where(
                MetricsSchedule.publication_id == uuid.UUID(doomed_pub["id"])
            )
        ).one()
        assert stopped.stopped_reason == "deleted"
        taken = list(
            s.scalars(
                select(MetricSnapshot.impressions).where(
                    MetricSnapshot.publication_id == uuid.UUID(kept_pub["id"])
                )
            )
        )
    assert taken == [None, None, None]

    # Workspace analytics for Bluesky: totals from the latest readings, impressions n/a.
    r = sky.env.owner.get("/api/v1/analytics", params={"platform": "bluesky"})
    assert r.status_code == 200, r.text
    summary = r.json()
    totals = summary["totals"]
    assert (totals["likes"], totals["reposts"], totals["impressions"]) == (4, 2, None)
    # The trend: kept (3 likes + 2 reposts + 1 reply + 1 quote) and the deleted post's last
    # reading (1 like), on the day they were published; no impressions.
    [day] = [p for p in summary["trend"] if p["posts"]]
    assert (day["posts"], day["engagements"], day["impressions"]) == (2, 8, None)
    [caps] = [p for p in summary["platforms"] if p["platform"] == "bluesky"]
    assert "impressions" not in caps["fields"] and caps["supports_metrics"]
    top = [p["publication_id"] for p in summary["top_posts"]]
    assert top[0] == kept_pub["id"]
    web_login(sky.env.client, sky.env.owner.email)
    page = sky.env.client.get("/analytics", params={"platform": "bluesky"})
    assert page.status_code == 200
    html = page.text.replace("\n", "")
    assert 'title="not provided by the platform">n/a</span></span><span>impressions' in html
    assert '<svg class="chart"' in html  # the trend chart


def test_an_ended_access_token_is_refreshed_and_the_reading_taken(sky: Sky) -> None:
    post_id, pub, ours = publish_post(sky, "Measured after the session ended.")
    sky.net.like(sky.net.create_account("fan"), ours)
    sky.net.wait_counts(ours, likeCount=1)
    start = datetime.fromisoformat(pub["published_at"])
    clock = Clock(start)
    run_sync_job(sky, clock)
    version = expire_session(sky)
    clock.set(start + timedelta(hours=1))
    report = run_sync_job(sky, clock)
    assert (report["snapshots"], report["waiting"]) == (1, 0)
    assert [figures(s) for s in analytics(sky, post_id)["snapshots"]] == [(1, 0, 0, 0, None)]
    token, new_version = stored_access_token(sky)
    assert new_version == version + 1 and token != "expired-access-jwt"
