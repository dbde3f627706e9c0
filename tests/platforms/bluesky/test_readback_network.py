"""Bluesky read-back (notifications, post counts) against the full local network with the
real AppView (@atproto/dev-env TestNetwork, tests/peers/bsky_network.py).

Every read goes to the account's PDS with its app-password session, which proxies ``app.bsky.*``
to the AppView, as a real client does against bsky.social.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from digipersona.platforms import errors
from digipersona.platforms.base import (
    Credentials,
    InteractionPage,
    ProviderConfig,
    PublishRequest,
    ReadBackUnsupported,
)
from digipersona.platforms.bluesky.provider import BlueskyProvider
from tests.peers.bsky_network import BskyNetwork, PostRef
from tests.peers.pds_harness import Account, PdsPeer

pytestmark = pytest.mark.pds


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def provider(bsky_network: BskyNetwork, http: httpx.Client) -> BlueskyProvider:
    return BlueskyProvider(ProviderConfig(api_url=bsky_network.pds_url, timeout_seconds=10), http)


@dataclass(frozen=True)
class Us:
    """Our account, connected through the provider with an app password, and a stranger."""

    account: Account
    credentials: Credentials
    other: Account


@pytest.fixture
def us(bsky_network: BskyNetwork, provider: BlueskyProvider) -> Us:
    account = bsky_network.create_account("persona")
    app_password = bsky_network.create_app_password(account)
    credentials, _ = provider.connect(account.handle, app_password, bsky_network.pds_url)
    other = bsky_network.create_account(
        "bob", display_name="Bob Buyer", description="CTO at Example Corp"
    )
    return Us(account, credentials, other)


def our_post(net: BskyNetwork, us: Us, text: str = "Our post") -> PostRef:
    post = net.post(us.account, f"{text} {secrets.token_hex(3)}")
    net.wait_indexed(post)
    return post


def poll(provider: BlueskyProvider, us: Us, cursor: str | None) -> InteractionPage:
    return provider.fetch_interactions(us.credentials, cursor=cursor)


def test_replies_mentions_and_quotes_arrive_once_across_polls(
    bsky_network: BskyNetwork, provider: BlueskyProvider, us: Us
) -> None:
    net = bsky_network
    post = our_post(net, us)
    assert poll(provider, us, None) == InteractionPage(items=[], cursor=None)

    first = net.post(us.other, "Do you consult? Can we talk?", reply_to=post)
    net.wait_notifications(us.account, 1)
    page1 = poll(provider, us, None)
    assert [item.external_id for item in page1.items] == [first.uri]
    assert page1.cursor

    mention = net.post(us.other, "Ask", mention=us.account)
    quote = net.post(us.other, "Worth reading", quote=post)
    second = net.post(us.other, "And pricing?", reply_to=first, root=post)
    net.wait_notifications(us.account, 4)
    page2 = poll(provider, us, page1.cursor)
    # Only what is new since the first poll, oldest first.
    assert [(item.kind, item.external_id) for item in page2.items] == [
        ("mention", mention.uri),
        ("quote", quote.uri),
        ("reply", second.uri),
    ]
    by_uri = {item.external_id: item for item in page2.items}

    reply = by_uri[second.uri]
    assert reply.text == "And pricing?"
    assert (reply.author_id, reply.author_handle) == (us.other.did, us.other.handle)
    assert (reply.author_name, reply.author_bio) == ("Bob Buyer", "CTO at Example Corp")
    assert reply.url == f"https://bsky.app/profile/{us.other.handle}/post/{second.rkey}"
    # A reply to Bob's reply in our thread notifies us as the root author.
    assert reply.subject_external_id in (first.uri, post.uri)
    assert reply.reply_target is not None
    assert reply.reply_target.parent_id == second.uri
    assert reply.reply_target.root_id == post.uri
    assert reply.reply_target.extra["cid"] == second.cid
    assert reply.reply_target.extra["root_cid"] == post.cid
    assert abs(reply.created_at - datetime.now(UTC)) < timedelta(minutes=1)

    assert by_uri[quote.uri].subject_external_id == post.uri
    assert by_uri[quote.uri].text == "Worth reading"
    assert by_uri[mention.uri].text == f"Ask @{us.account.handle}"
    assert by_uri[mention.uri].subject_external_id is None
    # A reply target of a top-level post is the post itself as root and parent.
    target = by_uri[mention.uri].reply_target
    assert target is not None
    assert (target.parent_id, target.root_id) == (mention.uri, mention.uri)

    page3 = poll(provider, us, page2.cursor)
    assert page3.items == []
    assert page3.cursor == page2.cursor

    third = net.post(us.other, "One more", reply_to=post)
    net.wait_notifications(us.account, 5)
    page4 = poll(provider, us, page3.cursor)
    assert [item.external_id for item in page4.items] == [third.uri]


def test_cursor_pages_back_over_several_api_pages(
    bsky_network: BskyNetwork, provider: BlueskyProvider, us: Us
) -> None:
    net = bsky_network
    post = our_post(net, us)
    net.post(us.other, "first", reply_to=post)
    net.wait_notifications(us.account, 1)
    cursor = poll(provider, us, None).cursor
    replies = [net.post(us.other, f"reply {n}", reply_to=post) for n in range(7)]
    net.wait_notifications(us.account, 8)
    # limit=3 makes listNotifications page; all seven new ones come back, once, in order.
    page = provider.fetch_interactions(us.credentials, cursor=cursor, limit=3)
    assert [item.external_id for item in page.items] == [reply.uri for reply in replies]
    assert provider.fetch_interactions(us.credentials, cursor=page.cursor, limit=3).items == []


def test_likes_reposts_replies_and_quotes_are_counted(
    bsky_network: BskyNetwork, provider: BlueskyProvider, us: Us
) -> None:
    net = bsky_network
    post, quiet = our_post(net, us), our_post(net, us, "Quiet post")
    fan = net.create_account("fan")
    net.like(us.other, post)
    net.like(fan, post)
    net.repost(us.other, post)
    net.post(us.other, "reply", reply_to=post)
    net.post(fan, "quote", quote=post)
    net.wait_counts(post, likeCount=2, repostCount=1, replyCount=1, quoteCount=1)

    readings = provider.fetch_metrics(us.credentials, [quiet.uri, post.uri])
    assert [reading.external_id for reading in readings] == [quiet.uri, post.uri]
    quiet_reading, reading = readings
    assert (reading.likes, reading.reposts, reading.replies, reading.quotes) == (2, 1, 1, 1)
    assert reading.impressions is None and reading.deleted is False
    assert (quiet_reading.likes, quiet_reading.reposts, quiet_reading.replies) == (0, 0, 0)
    assert BlueskyProvider.metrics_fields == ("likes", "reposts", "replies", "quotes")
    assert "impressions" in BlueskyProvider.metrics_note


def test_a_deleted_post_reads_as_deleted(
    bsky_network: BskyNetwork, provider: BlueskyProvider, us: Us
) -> None:
    net = bsky_network
    kept, gone = our_post(net, us), our_post(net, us, "Doomed")
    net.delete_post(us.account, gone)
    net.wait_gone(gone)
    never = f"at://{us.account.did}/app.bsky.feed.post/3zzzzzzzzzzzz"
    readings = provider.fetch_metrics(us.credentials, [gone.uri, kept.uri, never, "not-a-uri"])
    assert [(r.external_id, r.deleted) for r in readings] == [
        (gone.uri, True),
        (kept.uri, False),
        (never, True),
        ("not-a-uri", True),
    ]
    assert readings[1].likes == 0


def test_metrics_take_at_most_25_posts_per_call(provider: BlueskyProvider, us: Us) -> None:
    assert BlueskyProvider.metrics_batch_size == 25
    uris = [f"at://{us.account.did}/app.bsky.feed.post/3k{n:011d}" for n in range(26)]
    with pytest.raises(ValueError, match="25"):
        provider.fetch_metrics(us.credentials, uris)
    # 25 is fine (none exist, so all deleted).
    assert all(r.deleted for r in provider.fetch_metrics(us.credentials, uris[:25]))


def test_a_reply_published_with_the_reply_target_threads_under_the_original(
    bsky_network: BskyNetwork, provider: BlueskyProvider, us: Us
) -> None:
    net = bsky_network
    post = our_post(net, us)
    question = net.post(us.other, "Are you available in March?", reply_to=post)
    net.wait_notifications(us.account, 1)
    (item,) = poll(provider, us, None).items
    assert item.reply_target is not None

    result = provider.publish(
        us.credentials,
        PublishRequest(
            parts=["Yes, let's talk."],
            idempotency_key=f"reply-{secrets.token_hex(4)}",
            created_at=datetime.now(UTC),
            reply_to=item.reply_target,
        ),
    )
    answer = PostRef(result.external_id, str(result.parts[0].extra["cid"]))
    net.wait_indexed(answer)
    # The record's reply refs: root is our original post, parent is the question.
    record = net.xrpc(
        "GET",
        "com.atproto.repo.getRecord",
        params={"repo": us.account.did, "collection": "app.bsky.feed.post", "rkey": answer.rkey},
    ).json()["value"]
    assert record["reply"]["root"] == post.as_json()
    assert record["reply"]["parent"] == question.as_json()
    # And the AppView threads it: original -> question -> our answer.
    thread = net.xrpc(
        "GET",
        "app.bsky.feed.getPostThread",
        token=us.account.access_jwt,
        params={"uri": post.uri, "depth": "6"},
    ).json()["thread"]
    (first_reply,) = thread["replies"]
    assert first_reply["post"]["uri"] == question.uri
    assert [r["post"]["uri"] for r in first_reply["replies"]] == [answer.uri]
    # Bob gets our answer as a reply notification.
    (notification,) = net.wait_notifications(us.other, 1)
    assert notification["uri"] == answer.uri and notification["reason"] == "reply"


def test_an_interaction_from_a_deleted_account_disappears_without_breaking_the_poll(
    bsky_network: BskyNetwork, provider: BlueskyProvider, us: Us
) -> None:
    net = bsky_network
    post = our_post(net, us)
    ghost = net.create_account("ghost")
    gone = net.post(ghost, "gone soon", reply_to=post)
    kept = net.post(us.other, "still here", reply_to=post)
    net.wait_notifications(us.account, 2)
    net.delete_account(ghost)
    # The AppView drops a deleted account's notifications (verified on this network).
    net.wait_notification_gone(us.account, gone.uri)
    page = poll(provider, us, None)
    assert [item.external_id for item in page.items] == [kept.uri]


def test_a_reply_from_a_clock_behind_author_is_not_missed(
    bsky_network: BskyNetwork, provider: BlueskyProvider, us: Us
) -> None:
    """The AppView sorts a notification at min(createdAt, indexedAt): a reply whose author's
    clock runs two minutes behind lands *below* one we already saw. The cursor's overlap
    window still reports it, once."""
    net = bsky_network
    post = our_post(net, us)
    seen = net.post(us.other, "on time", reply_to=post)
    net.wait_notifications(us.account, 1)
    page1 = poll(provider, us, None)
    assert [item.external_id for item in page1.items] == [seen.uri]

    late = net.post(
        us.other, "slow clock", reply_to=post, created_at=datetime.now(UTC) - timedelta(minutes=2)
    )
    notifications = net.wait_notifications(us.account, 2)
    assert [n["uri"] for n in notifications] == [seen.uri, late.uri]  # sorted below `seen`
    page2 = poll(provider, us, page1.cursor)
    assert [item.external_id for item in page2.items] == [late.uri]
    assert poll(provider, us, page2.cursor).items == []


def test_a_bad_session_token_is_auth_expired(
    bsky_network: BskyNetwork, provider: BlueskyProvider, us: Us
) -> None:
    broken = Credentials(
        access_token="not-a-jwt",
        account_id=us.credentials.account_id,
        extra=us.credentials.extra,
    )
    with pytest.raises(errors.AuthExpired):
        provider.fetch_interactions(broken, cursor=None)
    with pytest.raises(errors.AuthExpired):
        provider.fetch_metrics(broken, [f"at://{us.account.did}/app.bsky.feed.post/3kabc"])


def test_a_pds_without_an_appview_says_read_back_is_unsupported(pds: PdsPeer) -> None:
    """The bare PDS (0.4.x, no AppView configured) answers app.bsky reads with 400
    "No service configured": that is a missing capability, not a failure to retry."""
    with httpx.Client(timeout=10) as client:
        bare = BlueskyProvider(ProviderConfig(api_url=pds.url, timeout_seconds=10), client)
        account = pds.create_account("bare")
        credentials, _ = bare.connect(account.handle, pds.create_app_password(account), pds.url)
        with pytest.raises(ReadBackUnsupported, match="no AppView"):
            bare.fetch_interactions(credentials, cursor=None)
        with pytest.raises(ReadBackUnsupported, match="no AppView"):
            bare.fetch_metrics(credentials, [f"at://{account.did}/app.bsky.feed.post/3kabc"])
