"""Feeds on a loopback server: new items, ETag/304, each item once, malformed, huge, slow."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from digipersona.autopilot.tasks import poll_due_feeds
from digipersona.kit.http import make_http_client
from digipersona.models import AutopilotRun, SeenFeedItem, Trigger
from tests.autopilot.conftest import Ctx, FailingProvider
from tests.fakes.feed import FakeFeed
from tests.fakes.server import serve

T0 = datetime(2026, 10, 19, 6, 0, tzinfo=UTC)


@pytest.fixture
def feed() -> Iterator[tuple[FakeFeed, str]]:
    fake = FakeFeed()
    fake.add(3, "old")
    with serve(fake) as server:
        yield fake, server.url


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with make_http_client(10) as client:
        yield client


def _trigger(ctx: Ctx, trigger_id: Any) -> Trigger:
    with ctx.factory() as s:
        trigger = s.get(Trigger, trigger_id)
        assert trigger is not None
        return trigger


def _runs(ctx: Ctx) -> list[AutopilotRun]:
    with ctx.factory() as s:
        return list(
            s.scalars(
                select(AutopilotRun)
                .where(AutopilotRun.persona_id == ctx.persona_id)
                .order_by(AutopilotRun.created_at)
            )
        )


def _add_feed(ctx: Ctx, url: str, **fields: Any) -> Any:
    return ctx.create_trigger(T0, kind="feed", feed_url=url, poll_minutes=30, **fields).trigger.id


def test_new_items_get_one_draft_each_and_304_costs_nothing(
    ctx: Ctx, feed: tuple[FakeFeed, str], http: httpx.Client
) -> None:
    fake, url = feed
    trigger_id = _add_feed(ctx, url + "/feed.xml")

    # First poll: the three items already there are a baseline, not news.
    assert poll_due_feeds(ctx.factory, ctx.settings, http, now=T0) == 1
    assert ctx.count_posts() == 0
    [baseline] = _runs(ctx)
    assert baseline.status == "nothing" and "First poll" in (baseline.reason or "")
    trigger = _trigger(ctx, trigger_id)
    assert trigger.etag and trigger.last_modified
    assert trigger.next_poll_at == T0 + timedelta(minutes=30)

    # Not due yet.
    assert poll_due_feeds(ctx.factory, ctx.settings, http, now=T0 + timedelta(minutes=29)) == 0

    # Two new items: one draft each, commenting on the item with its link.
    new = fake.add(2, "new")
    assert poll_due_feeds(ctx.factory, ctx.settings, http, now=T0 + timedelta(minutes=30)) == 1
    posts = ctx.posts()
    assert len(posts) == 2
    assert sorted(p.link_url or "" for p in posts) == sorted(i.link for i in new)
    for post in posts:
        assert post.link_url and post.link_url in post.body
        assert post.status == "in_review"
    runs = _runs(ctx)[1:]
    assert [r.status for r in runs] == ["generated", "generated"]
    assert all(r.source == "feed" for r in runs)
    assert fake.requests[-1]["if-none-match"] == trigger.etag

    # Unchanged feed: a conditional GET answered 304, nothing drafted, no run recorded.
    etag = _trigger(ctx, trigger_id).etag
    assert poll_due_feeds(ctx.factory, ctx.settings, http, now=T0 + timedelta(minutes=60)) == 1
    assert fake.requests[-1]["if-none-match"] == etag
    assert ctx.count_posts() == 2 and len(_runs(ctx)) == 3
    assert "304" in (_trigger(ctx, trigger_id).last_status or "")

    # Even without validators (the server forgot its ETag), each item is used once.
    with ctx.factory.begin() as s:
        row = s.get(Trigger, trigger_id)
        assert row is not None
        row.etag = row.last_modified = None
    assert poll_due_feeds(ctx.factory, ctx.settings, http, now=T0 + timedelta(minutes=90)) == 1
    assert fake.requests[-1]["if-none-match"] == ""
    assert ctx.count_posts() == 2
    with ctx.factory() as s:
        assert len(list(s.scalars(select(SeenFeedItem)))) == 5


def test_atom_feeds_and_last_modified(
    ctx: Ctx, feed: tuple[FakeFeed, str], http: httpx.Client
) -> None:
    fake, url = feed
    trigger_id = _add_feed(ctx, url + "/atom.xml")
    poll_due_feeds(ctx.factory, ctx.settings, http, now=T0)
    fake.add(1, "atom")
    poll_due_feeds(ctx.factory, ctx.settings, http, now=T0 + timedelta(hours=1))
    [post] = ctx.posts()
    assert post.link_url == "https://blog.example/atom/3"
    # If-Modified-Since alone also gets a 304.
    with ctx.factory.begin() as s:
        row = s.get(Trigger, trigger_id)
        assert row is not None
        row.etag = None
    poll_due_feeds(ctx.factory, ctx.settings, http, now=T0 + timedelta(hours=2))
    assert fake.requests[-1]["if-modified-since"]
    assert "304" in (_trigger(ctx, trigger_id).last_status or "")


@pytest.mark.parametrize(
    ("knobs", "settings_changes", "message"),
    [
        ({"malformed": True}, {}, "not well-formed XML"),
        ({"huge_bytes": 50_000}, {"autopilot_feed_max_bytes": 20_000}, "larger than 20000 bytes"),
        (
            {"huge_bytes": 300_000, "chunked": True},
            {"autopilot_feed_max_bytes": 100_000},
            "larger than 100000 bytes",
        ),
        ({}, {"autopilot_feed_max_items": 4}, "at most 4 are read"),
        ({"delay": 3.0}, {"autopilot_feed_timeout_seconds": 0.5}, "within 0.5 s"),
        ({"status": 500}, {}, "HTTP 500"),
    ],
)
def test_bad_feeds_are_recorded_and_create_nothing(
    ctx: Ctx,
    feed: tuple[FakeFeed, str],
    http: httpx.Client,
    knobs: dict[str, Any],
    settings_changes: dict[str, Any],
    message: str,
) -> None:
    fake, url = feed
    trigger_id = _add_feed(ctx, url + "/feed.xml")
    poll_due_feeds(ctx.factory, ctx.settings, http, now=T0)  # baseline
    fake.add(2, "new")
    for key, value in knobs.items():
        setattr(fake, key, value)
    settings = ctx.settings.model_copy(update=settings_changes)
    started = datetime.now(UTC)
    poll_due_feeds(ctx.factory, settings, http, now=T0 + timedelta(minutes=30))
    assert datetime.now(UTC) - started < timedelta(seconds=2.5)
    assert ctx.count_posts() == 0
    run = _runs(ctx)[-1]
    assert run.status == "failed" and message in (run.error or ""), run.error
    trigger = _trigger(ctx, trigger_id)
    assert trigger.failures == 1 and message in (trigger.last_status or "")
    with ctx.factory() as s:
        assert len(list(s.scalars(select(SeenFeedItem)))) == 3  # only the baseline


def test_a_failed_draft_is_retried_at_the_next_poll(
    ctx: Ctx, feed: tuple[FakeFeed, str], http: httpx.Client
) -> None:
    fake, url = feed
    trigger_id = _add_feed(ctx, url + "/feed.xml")
    poll_due_feeds(ctx.factory, ctx.settings, http, now=T0)
    fake.add(2, "new")
    # The first item drafts, the provider fails on the second.
    poll_due_feeds(
        ctx.factory, ctx.settings, http, now=T0 + timedelta(minutes=30), provider=FailingProvider(2)
    )
    assert ctx.count_posts() == 1
    assert [r.status for r in _runs(ctx)[1:]] == ["generated", "failed"]
    assert _trigger(ctx, trigger_id).etag is None  # a 304 must not hide the unused item
    poll_due_feeds(ctx.factory, ctx.settings, http, now=T0 + timedelta(minutes=60))
    posts = ctx.posts()
    assert len(posts) == 2
    assert len({p.link_url for p in posts}) == 2


def test_at_most_n_drafts_per_poll_the_rest_marked_seen(
    ctx: Ctx, feed: tuple[FakeFeed, str], http: httpx.Client
) -> None:
    fake, url = feed
    _add_feed(ctx, url + "/feed.xml")
    poll_due_feeds(ctx.factory, ctx.settings, http, now=T0)
    fake.add(5, "burst")
    poll_due_feeds(ctx.factory, ctx.settings, http, now=T0 + timedelta(minutes=30))
    posts = ctx.posts()
    assert len(posts) == 3
    # The newest three.
    assert sorted(p.link_url or "" for p in posts) == [
        f"https://blog.example/burst/{i}" for i in (5, 6, 7)
    ]
    poll_due_feeds(ctx.factory, ctx.settings, http, now=T0 + timedelta(minutes=60))
    assert ctx.count_posts() == 3


def test_a_due_feed_is_claimed_once(
    ctx: Ctx, feed: tuple[FakeFeed, str], http: httpx.Client
) -> None:
    from digipersona.autopilot.repository import TriggerRepository

    fake, url = feed
    trigger_id = _add_feed(ctx, url + "/feed.xml")
    with ctx.factory.begin() as s:
        assert TriggerRepository(s).claim_feed(trigger_id, T0, T0 + timedelta(minutes=10))
    with ctx.factory.begin() as s:
        assert not TriggerRepository(s).claim_feed(trigger_id, T0, T0 + timedelta(minutes=10))
    assert poll_due_feeds(ctx.factory, ctx.settings, http, now=T0) == 0
    assert fake.requests == []


REFUSED_FEEDS = [
    "http://127.0.0.1:8080/feed.xml",
    "http://localhost/feed.xml",
    "http://[::1]/feed.xml",
    "http://10.0.0.1/rss",
    "http://169.254.169.254/latest/meta-data/",
]


def test_a_feed_on_a_refused_address_is_not_saved(ctx: Ctx, public_only: Any) -> None:
    base = f"/api/v1/personas/{ctx.persona_id}/autopilot/triggers"
    for url in REFUSED_FEEDS:
        r = ctx.owner.post(base, json={"kind": "feed", "feed_url": url})
        assert r.status_code == 422, r.text
        problem = r.json()
        assert "Refused to connect to" in problem["detail"], problem
        assert "DIGIPERSONA_OUTBOUND_ALLOWED_NETWORKS" in problem["detail"]
        assert problem["errors"][0]["field"] == "feed_url"
    assert ctx.owner.get(base).json() == []

    # Changing a feed's URL is checked the same way; the feed keeps the URL it had.
    r = ctx.owner.post(base, json={"kind": "feed", "feed_url": "https://blog.example/rss"})
    assert r.status_code == 201, r.text
    feed_id = r.json()["id"]
    r = ctx.owner.patch(f"{base}/{feed_id}", json={"feed_url": "http://[::ffff:127.0.0.1]/f"})
    assert r.status_code == 422 and "loopback" in r.json()["detail"], r.text
    assert ctx.owner.get(f"{base}/{feed_id}").json()["feed_url"] == "https://blog.example/rss"


def test_a_feed_refused_when_fetched_fails_the_poll_and_is_never_requested(
    ctx: Ctx, feed: tuple[FakeFeed, str], http: httpx.Client
) -> None:
    fake, url = feed
    trigger_id = _add_feed(ctx, url + "/feed.xml")  # saved while loopback was allowed
    # The poll is handed an unguarded client; the feed is fetched through the guard anyway.
    public_only = ctx.settings.model_copy(update={"outbound_allowed_networks": ""})
    assert poll_due_feeds(ctx.factory, public_only, http, now=T0) == 1
    assert fake.requests == []
    [run] = _runs(ctx)
    assert run.status == "failed", run.error
    assert "Refused to connect to 127.0.0.1: it is a loopback address" in (run.error or "")
    assert "DIGIPERSONA_OUTBOUND_ALLOWED_NETWORKS" in (run.error or "")
    assert _trigger(ctx, trigger_id).failures == 1
    assert ctx.count_posts() == 0
