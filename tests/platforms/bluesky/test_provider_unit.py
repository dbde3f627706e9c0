"""Bluesky provider behaviour that a real PDS cannot be made to show on demand (MockTransport)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from digipersona.exceptions import ValidationFailed
from digipersona.platforms import errors
from digipersona.platforms.base import (
    Credentials,
    MediaItem,
    ProviderConfig,
    PublishRequest,
    ReplyTarget,
)
from digipersona.platforms.bluesky.client import rate_limit_reset
from digipersona.platforms.bluesky.provider import BlueskyProvider
from digipersona.platforms.bluesky.tid import deterministic_tid

DID = "did:plc:abc123abc123abc123abc123"
PDS = "https://morel.us-east.host.bsky.network"
CREDS = Credentials(
    access_token="access.jwt",
    refresh_token="refresh.jwt",
    account_id=DID,
    extra={"did": DID, "handle": "alice.bsky.social", "pds_url": PDS},
)
REQ = PublishRequest(
    parts=["hello"], idempotency_key="k-1", created_at=datetime(2026, 9, 1, tzinfo=UTC)
)
Handler = Callable[[httpx.Request], httpx.Response]


def xrpc_error(status: int, error: str, message: str = "", **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"error": error, "message": message}, headers=headers)


def make(handler: Handler) -> tuple[BlueskyProvider, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    http = httpx.Client(transport=httpx.MockTransport(record))
    return BlueskyProvider(ProviderConfig(api_url="https://bsky.social"), http), seen


def session_body(pds: str) -> dict[str, object]:
    """A createSession answer whose DID document names ``pds`` as the account's PDS."""
    return {
        "accessJwt": "a",
        "refreshJwt": "r",
        "did": DID,
        "handle": "alice.bsky.social",
        "didDoc": {
            "id": DID,
            "service": [
                {"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": pds}
            ],
        },
    }


def nsid(request: httpx.Request) -> str:
    return request.url.path.removeprefix("/xrpc/")


def test_capabilities_are_declared() -> None:
    assert BlueskyProvider.name == "bluesky"
    assert BlueskyProvider.auth_kind == "app_password"
    assert (BlueskyProvider.max_length, BlueskyProvider.length_unit) == (300, "graphemes")
    assert BlueskyProvider.max_bytes == 3000
    assert (BlueskyProvider.max_images, BlueskyProvider.max_image_bytes) == (4, 2_000_000)
    assert BlueskyProvider.supports_threads is True
    assert BlueskyProvider.link_handling == "facet"


@pytest.mark.parametrize(
    "value",
    [
        "hunter2",
        "ABCD-EFGH-IJKL-MNOP",
        "abcd-efgh-ijkl",
        "abcd efgh ijkl mnop",
        "abcd-efgh-ijkl-mnop-",
    ],
)
def test_connect_refuses_anything_not_app_password_shaped_without_a_request(value: str) -> None:
    provider, seen = make(lambda r: httpx.Response(500))
    with pytest.raises(ValidationFailed, match="Privacy and security > App passwords"):
        provider.connect("alice.bsky.social", value)
    assert seen == []


def test_connect_uses_the_pds_from_the_did_document() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if nsid(request) == "com.atproto.server.createSession":
            assert request.url.host == "bsky.social"
            assert json.loads(request.content) == {
                "identifier": "alice.bsky.social",
                "password": "abcd-1234-efgh-5678",
            }
            return httpx.Response(
                200,
                json=session_body(PDS + "/"),
            )
        assert request.url.host == "morel.us-east.host.bsky.network"
        return httpx.Response(200, json={"uri": "x", "cid": "y", "value": {"displayName": "Al"}})

    provider, seen = make(handler)
    credentials, profile = provider.connect("@alice.bsky.social", " abcd-1234-efgh-5678 ")
    assert credentials.extra["pds_url"] == PDS
    assert credentials.extra["service_url"] == "https://bsky.social"
    assert credentials.account_id == DID
    assert profile.display_name == "Al"
    assert len(seen) == 2


def test_wrong_app_password_is_a_clear_permanent_error() -> None:
    provider, _ = make(
        lambda r: xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
    )
    with pytest.raises(errors.Permanent, match="did not accept the handle"):
        provider.connect("alice.bsky.social", "abcd-1234-efgh-5678")


def test_expired_token_400_is_auth_expired() -> None:
    provider, _ = make(lambda r: xrpc_error(400, "ExpiredToken", "Token has expired"))
    with pytest.raises(errors.AuthExpired) as info:
        provider.publish(CREDS, REQ)
    assert info.value.status_code == 400


def test_refresh_sends_the_refresh_jwt_and_maps_revocation_to_reconnect() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert nsid(request) == "com.atproto.server.refreshSession"
        assert request.headers["authorization"] == "Bearer refresh.jwt"
        assert request.url.host == "morel.us-east.host.bsky.network"
        return xrpc_error(400, "ExpiredToken", "Token has been revoked")

    provider, _ = make(handler)
    with pytest.raises(errors.AuthExpired, match="Reconnect the account"):
        provider.refresh(CREDS)


def test_refresh_without_a_refresh_token_asks_for_reconnect() -> None:
    provider, seen = make(lambda r: httpx.Response(500))
    with pytest.raises(errors.AuthExpired, match="Reconnect"):
        provider.refresh(Credentials(access_token="a", account_id=DID, extra={"did": DID}))
    assert seen == []


def test_429_waits_for_ratelimit_reset() -> None:
    provider, _ = make(
        lambda r: xrpc_error(
            429,
            "RateLimitExceeded",
            "Rate Limit Exceeded",
            **{"RateLimit-Reset": "1788300000", "RateLimit-Remaining": "0"},
        )
    )
    with pytest.raises(errors.RateLimited) as info:
        provider.publish(CREDS, REQ)
    assert info.value.retry_at == datetime.fromtimestamp(1788300000, UTC)


def test_rate_limit_reset_falls_back_to_retry_after_then_a_window() -> None:
    now = datetime(2026, 9, 1, tzinfo=UTC)
    assert (rate_limit_reset(httpx.Headers({"Retry-After": "30"}), now) - now).seconds == 30
    assert (rate_limit_reset(httpx.Headers(), now) - now).seconds == 300


def test_5xx_on_create_record_reads_the_rkey_back_before_giving_up() -> None:
    rkey = deterministic_tid(REQ.created_at, REQ.idempotency_key, 0)

    def handler(request: httpx.Request) -> httpx.Response:
        if nsid(request) == "com.atproto.repo.createRecord":
            assert json.loads(request.content)["rkey"] == rkey
            return xrpc_error(500, "InternalServerError", "Internal Server Error")
        assert nsid(request) == "com.atproto.repo.getRecord"
        assert request.url.params["rkey"] == rkey
        return xrpc_error(400, "RecordNotFound", "Could not locate record")

    provider, seen = make(handler)
    with pytest.raises(errors.UnknownOutcome):
        provider.publish(CREDS, REQ)
    assert [nsid(r) for r in seen] == [
        "com.atproto.repo.createRecord",
        "com.atproto.repo.getRecord",
    ]


def test_5xx_on_create_record_adopts_our_earlier_write() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if nsid(request) == "com.atproto.repo.createRecord":
            return xrpc_error(500, "InternalServerError")
        return httpx.Response(
            200,
            json={
                "uri": f"at://{DID}/app.bsky.feed.post/x",
                "cid": "c1",
                "value": {"text": "hello"},
            },
        )

    provider, _ = make(handler)
    result = provider.publish(CREDS, REQ)
    assert result.parts[0].extra["cid"] == "c1"


def test_an_rkey_holding_a_different_post_is_permanent() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if nsid(request) == "com.atproto.repo.createRecord":
            return xrpc_error(500, "InternalServerError")
        return httpx.Response(
            200,
            json={
                "uri": f"at://{DID}/app.bsky.feed.post/x",
                "cid": "c1",
                "value": {"text": "other"},
            },
        )

    provider, _ = make(handler)
    with pytest.raises(errors.Permanent, match="already holds a different post"):
        provider.publish(CREDS, REQ)


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.ConnectError("refused"), errors.Transient),
        (httpx.ReadTimeout("slow"), errors.UnknownOutcome),
        (httpx.RemoteProtocolError("cut"), errors.UnknownOutcome),
    ],
)
def test_transport_failures_on_create_record(
    failure: Exception, expected: type[errors.PlatformError]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    provider, _ = make(handler)
    with pytest.raises(expected):
        provider.publish(CREDS, REQ)


def test_5xx_on_upload_blob_is_transient() -> None:
    provider, _ = make(lambda r: xrpc_error(502, "UpstreamFailure"))
    media = [MediaItem(data=b"\x89PNG", mime_type="image/png")]
    with pytest.raises(errors.Transient):
        provider.publish(CREDS, PublishRequest(**{**REQ.__dict__, "media": media}))


@pytest.mark.parametrize(
    "response",
    [
        xrpc_error(400, "InvalidRequest", "Invalid app.bsky.feed.post record: grapheme too big"),
        xrpc_error(413, "PayloadTooLarge", "request entity too large"),
        xrpc_error(400, "BlobTooLarge", "This file is too large."),
    ],
)
def test_content_refusals_are_invalid_content(response: httpx.Response) -> None:
    provider, _ = make(lambda r: response)
    with pytest.raises(errors.InvalidContent):
        provider.publish(CREDS, REQ)


@pytest.mark.parametrize(
    ("request_changes", "match"),
    [
        ({"parts": ["x" * 301]}, "301 characters"),
        ({"parts": ["ok", "👨‍👩‍👧‍👧" * 150]}, r"Part 2 .*3750 bytes"),
        ({"media": [MediaItem(data=b"x", mime_type="image/png")] * 5}, "at most 4 images"),
        ({"media": [MediaItem(data=b"x" * 2_000_001, mime_type="image/png")]}, "at most 2 MB"),
        ({"media": [MediaItem(data=b"x", mime_type="image/tiff")]}, "image/tiff"),
    ],
)
def test_content_is_checked_before_anything_is_sent(
    request_changes: dict[str, object], match: str
) -> None:
    provider, seen = make(lambda r: httpx.Response(500))
    with pytest.raises(errors.InvalidContent, match=match):
        provider.publish(CREDS, PublishRequest(**{**REQ.__dict__, **request_changes}))
    assert seen == []


def test_posts_go_to_the_accounts_pds_with_the_bearer_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "morel.us-east.host.bsky.network"
        assert request.headers["authorization"] == "Bearer access.jwt"
        body = json.loads(request.content)
        assert body["repo"] == DID
        assert body["record"]["createdAt"].endswith("Z")
        return httpx.Response(
            200, json={"uri": f"at://{DID}/app.bsky.feed.post/{body['rkey']}", "cid": "c"}
        )

    provider, _ = make(handler)
    result = provider.publish(CREDS, REQ)
    assert result.url is not None and result.url.startswith(
        "https://bsky.app/profile/alice.bsky.social/post/"
    )


def test_delete_treats_a_missing_record_as_deleted() -> None:
    provider, seen = make(lambda r: xrpc_error(400, "RecordNotFound", "Could not locate record"))
    provider.delete(CREDS, f"at://{DID}/app.bsky.feed.post/3jzfcijpj2z2a")
    assert json.loads(seen[0].content) == {
        "repo": DID,
        "collection": "app.bsky.feed.post",
        "rkey": "3jzfcijpj2z2a",
    }


def test_delete_refuses_something_that_is_not_an_at_uri() -> None:
    provider, _ = make(lambda r: httpx.Response(200))
    with pytest.raises(errors.Permanent, match="at:// URI"):
        provider.delete(CREDS, "https://bsky.app/profile/x/post/y")


BOB = "did:plc:bob000bob000bob000bob000"
BOB_POST = f"at://{BOB}/app.bsky.feed.post/3kbobpost0000"
ROOT_POST = f"at://{DID}/app.bsky.feed.post/3kourpost0000"


def reply_request(text: str) -> PublishRequest:
    # As an interaction from listNotifications leaves it: both refs with their cids.
    target = ReplyTarget(
        parent_id=BOB_POST,
        root_id=ROOT_POST,
        extra={"cid": "bobcid", "parent_cid": "bobcid", "root_cid": "rootcid"},
    )
    return PublishRequest(
        parts=[text], idempotency_key="r-1", created_at=REQ.created_at, reply_to=target
    )


def test_a_reply_whose_parent_was_deleted_is_refused_before_writing() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if nsid(request) == "com.atproto.repo.getRecord":  # not in our repo
            return xrpc_error(400, "InvalidRequest", "Could not locate record")
        if nsid(request) == "app.bsky.feed.getPosts":  # and gone from the AppView
            assert request.url.params["uris"] == BOB_POST
            return httpx.Response(200, json={"posts": []})
        raise AssertionError(f"unexpected {request.url}")

    provider, seen = make(handler)
    with pytest.raises(errors.Permanent, match="no longer exists on Bluesky"):
        provider.publish(CREDS, reply_request("Too late"))
    assert "com.atproto.repo.createRecord" not in [nsid(r) for r in seen]


def test_a_reply_keeps_the_conversation_root_and_answers_the_live_parent() -> None:
    created: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if nsid(request) == "com.atproto.repo.getRecord":
            return xrpc_error(400, "InvalidRequest", "Could not locate record")
        if nsid(request) == "app.bsky.feed.getPosts":
            post = {"uri": BOB_POST, "cid": "bobcid", "record": {"text": "Q?"}}
            return httpx.Response(200, json={"posts": [post]})
        body = json.loads(request.content)
        created.append(body["record"])
        return httpx.Response(200, json={"uri": f"at://{DID}/x/{body['rkey']}", "cid": "c"})

    provider, _ = make(handler)
    provider.publish(CREDS, reply_request("Answer"))
    [record] = created
    assert record["reply"] == {
        "root": {"uri": ROOT_POST, "cid": "rootcid"},
        "parent": {"uri": BOB_POST, "cid": "bobcid"},
    }


@pytest.mark.parametrize(
    "pds",
    ["http://127.0.0.1:2583", "http://localhost.:2583", "http://[::1]:2583", "http://10.0.0.7"],
)
def test_a_did_document_naming_a_private_pds_is_refused_and_nothing_is_sent_there(
    pds: str,
) -> None:
    """The DID document is the account owner's to write: its PDS is checked like a typed URL."""
    from digipersona.kit.outbound import GuardedClient

    def handler(request: httpx.Request) -> httpx.Response:
        assert nsid(request) == "com.atproto.server.createSession", request.url
        return httpx.Response(
            200,
            json=session_body(pds),
        )

    http = GuardedClient(())  # no private network allowed, as in production
    http._transport = httpx.MockTransport(handler)  # the entryway answers without a network
    provider = BlueskyProvider(ProviderConfig(api_url="https://bsky.social"), http)
    with pytest.raises(ValidationFailed, match="DID document names the server"):
        provider.connect("alice.bsky.social", "abcd-1234-efgh-5678")
