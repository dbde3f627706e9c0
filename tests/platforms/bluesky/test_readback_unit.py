"""Bluesky read-back behaviour the real network cannot be made to show on demand (MockTransport
answering with the shapes of platform-apis 2.5 / 2.6): rate limits, server errors, partial data."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from digipersona.platforms import errors
from digipersona.platforms.base import Credentials, ProviderConfig
from digipersona.platforms.bluesky import readback
from digipersona.platforms.bluesky.provider import BlueskyProvider

DID = "did:plc:abc123abc123abc123abc123"
BOB = "did:plc:bob456bob456bob456bob456"
PDS = "https://morel.us-east.host.bsky.network"
CREDS = Credentials(
    access_token="access.jwt",
    refresh_token="refresh.jwt",
    account_id=DID,
    extra={"did": DID, "handle": "alice.bsky.social", "pds_url": PDS},
)
OUR_POST = f"at://{DID}/app.bsky.feed.post/3kaaaaaaaaaa2"
Handler = Callable[[httpx.Request], httpx.Response]


def make(handler: Handler) -> tuple[BlueskyProvider, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    http = httpx.Client(transport=httpx.MockTransport(record))
    return BlueskyProvider(ProviderConfig(api_url="https://bsky.social"), http), seen


def notification(
    rkey: str, reason: str, indexed_at: str, *, record: Any = None, author: Any = None
) -> dict[str, Any]:
    return {
        "uri": f"at://{BOB}/app.bsky.feed.post/{rkey}",
        "cid": f"bafy{rkey}",
        "author": author if author is not None else {"did": BOB, "handle": "bob.test"},
        "reason": reason,
        "record": record
        if record is not None
        else {"$type": "app.bsky.feed.post", "text": rkey, "createdAt": indexed_at},
        "isRead": False,
        "indexedAt": indexed_at,
        "labels": [],
    }


def test_notifications_ask_for_reply_mention_quote_at_the_pds_with_the_token() -> None:
    provider, seen = make(lambda request: httpx.Response(200, json={"notifications": []}))
    page = provider.fetch_interactions(CREDS, cursor=None, limit=500)
    assert page.items == [] and page.cursor is None
    (request,) = seen
    assert str(request.url).startswith(f"{PDS}/xrpc/app.bsky.notification.listNotifications?")
    assert request.headers["authorization"] == "Bearer access.jwt"
    assert sorted(request.url.params.get_list("reasons")) == ["mention", "quote", "reply"]
    assert request.url.params["limit"] == "100"  # clamped to the lexicon's maximum


def test_429_on_notifications_waits_for_ratelimit_reset() -> None:
    reset = int((datetime.now(UTC) + timedelta(minutes=3)).timestamp())
    provider, _ = make(
        lambda request: httpx.Response(
            429,
            json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
            headers={
                "RateLimit-Limit": "3000",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(reset),
            },
        )
    )
    with pytest.raises(errors.RateLimited) as caught:
        provider.fetch_interactions(CREDS, cursor=None)
    assert caught.value.retry_at == datetime.fromtimestamp(reset, UTC)
    with pytest.raises(errors.RateLimited):
        provider.fetch_metrics(CREDS, [OUR_POST])


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_on_reads_are_transient(status: int) -> None:
    provider, _ = make(
        lambda request: httpx.Response(status, json={"error": "InternalServerError"})
    )
    with pytest.raises(errors.Transient) as caught:
        provider.fetch_interactions(CREDS, cursor=None)
    assert not isinstance(caught.value, errors.UnknownOutcome)  # a read is safe to repeat


def test_expired_token_is_auth_expired() -> None:
    provider, _ = make(
        lambda request: httpx.Response(
            400, json={"error": "ExpiredToken", "message": "Token has expired"}
        )
    )
    with pytest.raises(errors.AuthExpired):
        provider.fetch_metrics(CREDS, [OUR_POST])


def test_partial_and_odd_notifications_are_handled() -> None:
    items = [
        # A deactivated author: the AppView says handle.invalid; show the DID instead.
        notification(
            "3kbbbbbbbbbb2",
            "reply",
            "2026-11-29T10:00:03.000Z",
            author={"did": BOB, "handle": "handle.invalid"},
            record={"text": "hi", "reply": {"root": {"uri": OUR_POST, "cid": "bafyroot"}}},
        ),
        # No record at all (hydration failed): kept, with empty text and the indexedAt time.
        notification("3kcccccccccc2", "mention", "2026-11-29T10:00:02.000Z", record={}),
        # A quote with media: the subject is inside recordWithMedia.record.record.
        notification(
            "3kdddddddddd2",
            "quote",
            "2026-11-29T10:00:01.000Z",
            record={
                "text": "look",
                "createdAt": "2026-11-29T10:00:01.000Z",
                "embed": {
                    "$type": "app.bsky.embed.recordWithMedia",
                    "record": {
                        "$type": "app.bsky.embed.record",
                        "record": {"uri": OUR_POST, "cid": "bafyours"},
                    },
                    "media": {"$type": "app.bsky.embed.images", "images": []},
                },
            },
        ),
        # Reasons we did not ask for, and garbage, are skipped.
        notification("3keeeeeeeeee2", "like", "2026-11-29T10:00:00.500Z"),
        {"reason": "reply"},
        "not an object",
    ]
    provider, _ = make(lambda request: httpx.Response(200, json={"notifications": items}))
    page = provider.fetch_interactions(CREDS, cursor=None)
    quote, mention, reply = page.items  # oldest first
    assert (reply.kind, reply.author_handle, reply.author_id) == ("reply", BOB, BOB)
    assert reply.url == f"https://bsky.app/profile/{BOB}/post/3kbbbbbbbbbb2"
    assert reply.reply_target is not None
    assert (reply.reply_target.root_id, reply.reply_target.extra["root_cid"]) == (
        OUR_POST,
        "bafyroot",
    )
    assert (mention.text, mention.extra.get("record_missing")) == ("", True)
    assert mention.created_at == datetime(2026, 11, 29, 10, 0, 2, tzinfo=UTC)
    assert quote.subject_external_id == OUR_POST
    assert page.cursor is not None
    assert readback.NotificationCursor.decode(page.cursor) == readback.NotificationCursor(
        datetime(2026, 11, 29, 10, 0, 3, tzinfo=UTC),
        frozenset(
            f"at://{BOB}/app.bsky.feed.post/{rkey}"
            for rkey in ("3kbbbbbbbbbb2", "3kcccccccccc2", "3kdddddddddd2", "3keeeeeeeeee2")
        ),
    )


def test_a_post_that_replies_and_mentions_is_one_reply() -> None:
    both = [
        notification("3kffffffffff2", "mention", "2026-11-29T10:00:00.000Z"),
        notification("3kffffffffff2", "reply", "2026-11-29T10:00:00.000Z"),
    ]
    provider, _ = make(lambda request: httpx.Response(200, json={"notifications": both}))
    (item,) = provider.fetch_interactions(CREDS, cursor=None).items
    assert item.kind == "reply"


def test_paging_stops_at_the_cursor_horizon() -> None:
    """Later polls page back (API cursor) until notifications older than t - OVERLAP."""
    t = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    stamp = lambda d: d.isoformat(timespec="milliseconds").replace("+00:00", "Z")  # noqa: E731
    pages = {
        None: (
            [notification("3k0000000003a", "reply", stamp(t + timedelta(seconds=5)))],
            "page2",
        ),
        "page2": (
            [
                notification("3k0000000002a", "reply", stamp(t)),  # seen last time
                notification("3k0000000001a", "reply", stamp(t - timedelta(minutes=1))),  # late
            ],
            "page3",
        ),
        "page3": (
            [notification("3k0000000000a", "reply", stamp(t - timedelta(hours=1)))],
            "page4",
        ),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        items, cursor = pages[request.url.params.get("cursor")]
        return httpx.Response(200, json={"notifications": items, "cursor": cursor})

    provider, seen = make(handler)
    previous = readback.NotificationCursor(
        t, frozenset({f"at://{BOB}/app.bsky.feed.post/3k0000000002a"})
    )
    page = provider.fetch_interactions(CREDS, cursor=previous.encode(), limit=1)
    assert [item.text for item in page.items] == ["3k0000000001a", "3k0000000003a"]
    assert [r.url.params.get("cursor") for r in seen] == [None, "page2", "page3"]  # no page4
    decoded = readback.NotificationCursor.decode(page.cursor)
    assert decoded is not None and decoded.newest == t + timedelta(seconds=5)
    assert len(decoded.seen) == 3


@pytest.mark.parametrize("value", ["", "garbage", "[]", '{"t": "not a time"}', '{"seen": []}'])
def test_an_unreadable_cursor_is_a_first_poll(value: str) -> None:
    assert readback.NotificationCursor.decode(value) is None


def test_the_seen_set_forgets_uris_older_than_the_overlap() -> None:
    t = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    previous = readback.NotificationCursor(t, frozenset({"at://old"}))
    later = t + readback.OVERLAP + timedelta(seconds=1)
    cursor = readback.next_cursor(previous, [("at://new", later)])
    assert cursor == readback.NotificationCursor(later, frozenset({"at://new"}))
    assert readback.next_cursor(previous, []) == previous
    assert readback.next_cursor(None, []) is None


def test_metrics_send_repeated_uris_and_read_counts() -> None:
    second = f"at://{DID}/app.bsky.feed.post/3kaaaaaaaaab2"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("com.atproto.repo.getRecord"):
            return httpx.Response(400, json={"error": "RecordNotFound", "message": "gone"})
        assert request.url.path == "/xrpc/app.bsky.feed.getPosts"
        assert request.url.params.get_list("uris") == [OUR_POST, second]
        view = {"uri": second, "cid": "bafy", "likeCount": 4, "repostCount": 1, "replyCount": 2}
        return httpx.Response(200, json={"posts": [view]})

    provider, _ = make(handler)
    first, other = provider.fetch_metrics(CREDS, [OUR_POST, second])
    assert (other.likes, other.reposts, other.replies, other.quotes) == (4, 1, 2, None)
    assert first.deleted is True


def test_a_post_the_appview_has_not_indexed_yet_is_not_deleted() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("app.bsky.feed.getPosts"):
            return httpx.Response(200, json={"posts": []})
        assert request.url.path.endswith("com.atproto.repo.getRecord")
        return httpx.Response(
            200,
            json={
                "uri": OUR_POST,
                "cid": "bafyours",
                "value": {"text": "x", "createdAt": "2026-11-29T10:00:00Z"},
            },
        )

    provider, _ = make(handler)
    (reading,) = provider.fetch_metrics(CREDS, [OUR_POST])
    assert reading.deleted is False and reading.likes is None


def test_a_post_gone_from_the_repo_is_deleted() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("app.bsky.feed.getPosts"):
            return httpx.Response(200, json={"posts": []})
        return httpx.Response(
            400, json={"error": "RecordNotFound", "message": f"Could not locate record: {OUR_POST}"}
        )

    provider, _ = make(handler)
    (reading,) = provider.fetch_metrics(CREDS, [OUR_POST])
    assert reading.deleted is True


def test_read_back_capabilities_are_declared() -> None:
    assert BlueskyProvider.supports_interactions is True
    assert BlueskyProvider.supports_metrics is True
    assert BlueskyProvider.metrics_batch_size == 25
    assert json.loads(
        readback.NotificationCursor(datetime(2026, 1, 1, tzinfo=UTC), frozenset()).encode()
    ) == {
        "t": "2026-01-01T00:00:00.000000Z",
        "seen": [],
    }
