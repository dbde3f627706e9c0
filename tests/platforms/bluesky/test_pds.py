"""The Bluesky provider against the real PDS server software (@atproto/pds 0.4.x) on loopback."""

from __future__ import annotations

import io
import itertools
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from PIL import Image

from digipersona.exceptions import ValidationFailed
from digipersona.platforms import errors
from digipersona.platforms.base import (
    Credentials,
    MediaItem,
    ProviderConfig,
    PublishedPart,
    PublishRequest,
    ReplyTarget,
)
from digipersona.platforms.bluesky.client import XrpcClient
from digipersona.platforms.bluesky.provider import BlueskyProvider
from digipersona.platforms.bluesky.schemas import AtUri
from digipersona.platforms.bluesky.tid import TID_RE, deterministic_tid
from tests.peers.pds_harness import PdsPeer
from tests.platforms.bluesky.conftest import Connected

pytestmark = pytest.mark.pds

CREATED = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


def request(*parts: str, **kwargs: object) -> PublishRequest:
    kwargs.setdefault("idempotency_key", f"pub-{secrets.token_hex(8)}")
    kwargs.setdefault("created_at", CREATED)
    return PublishRequest(parts=list(parts), **kwargs)  # type: ignore[arg-type]


def get_record(pds: PdsPeer, uri: str) -> dict[str, object]:
    at = AtUri.parse(uri)
    response = pds.xrpc(
        "GET",
        "com.atproto.repo.getRecord",
        params={"repo": at.repo, "collection": at.collection, "rkey": at.rkey},
    )
    response.raise_for_status()
    body: dict[str, object] = response.json()
    return body


def png(width: int, height: int, *, noise: bool = False) -> bytes:
    if noise:
        image = Image.frombytes("RGB", (width, height), secrets.token_bytes(width * height * 3))
    else:
        image = Image.new("RGB", (width, height), (30, 120, 200))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class FaultTransport(httpx.BaseTransport):
    """Forwards to the real PDS; ``fault(request)`` may raise before or after forwarding."""

    def __init__(self, fault: Callable[[httpx.Request, int], str | None]) -> None:
        self.inner = httpx.HTTPTransport()
        self.fault = fault
        self.calls: dict[str, int] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        nsid = request.url.path.rsplit("/", 1)[-1]
        self.calls[nsid] = self.calls.get(nsid, 0) + 1
        action = self.fault(request, self.calls[nsid])
        if action == "refuse":
            raise httpx.ConnectError("connection refused", request=request)
        response = self.inner.handle_request(request)
        if action == "timeout_after":
            response.read()
            response.close()
            raise httpx.ReadTimeout("timed out after the write", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


def faulty_provider(pds: PdsPeer, transport: FaultTransport) -> BlueskyProvider:
    return BlueskyProvider(
        ProviderConfig(api_url=pds.url, timeout_seconds=10),
        httpx.Client(transport=transport, timeout=10),
    )


# -- connecting ----------------------------------------------------------------------------
def test_connect_with_app_password(connected: Connected, pds: PdsPeer) -> None:
    credentials, profile = connected.credentials, connected.profile
    assert credentials.account_id == connected.account.did
    assert credentials.extra["did"] == connected.account.did
    assert credentials.extra["handle"] == connected.account.handle
    # PDS 0.4 sends no didDoc with createSession, so the login URL is the PDS.
    assert credentials.extra["pds_url"] == pds.url
    assert credentials.refresh_token
    assert credentials.expires_at is not None
    assert credentials.expires_at > datetime.now(UTC) + timedelta(minutes=30)
    claims = jwt.decode(credentials.access_token, options={"verify_signature": False})
    assert claims["scope"] == "com.atproto.appPass"
    assert profile.account_id == connected.account.did
    assert profile.handle == connected.account.handle
    assert profile.url == f"https://bsky.app/profile/{connected.account.handle}"


def test_connect_refuses_a_main_password_before_sending_it(pds: PdsPeer) -> None:
    account = pds.create_account("main")
    sent: list[httpx.Request] = []
    http = httpx.Client(timeout=10, event_hooks={"request": [sent.append]})
    provider = BlueskyProvider(ProviderConfig(api_url=pds.url), http)
    with pytest.raises(ValidationFailed) as info:
        provider.connect(account.handle, account.password, pds.url)
    assert "Settings > Privacy and security > App passwords" in info.value.message
    assert "never your main password" in info.value.message
    assert sent == []


def test_connect_refuses_a_main_password_that_looks_like_an_app_password(pds: PdsPeer) -> None:
    account = pds.create_account("lookalike", password="abcd-efgh-ijkl-mnop")
    provider = BlueskyProvider(ProviderConfig(api_url=pds.url), httpx.Client(timeout=10))
    with pytest.raises(ValidationFailed, match="main password"):
        provider.connect(account.handle, "abcd-efgh-ijkl-mnop", pds.url)


def test_connect_with_a_wrong_app_password_says_what_to_fix(
    pds: PdsPeer, provider: BlueskyProvider
) -> None:
    account = pds.create_account("wrong")
    with pytest.raises(errors.Permanent) as info:
        provider.connect(account.handle, "aaaa-bbbb-cccc-dddd", pds.url)
    assert info.value.status_code == 401
    assert "App passwords" in info.value.message


def test_profile_reads_the_account(connected: Connected, provider: BlueskyProvider) -> None:
    profile = provider.profile(connected.credentials)
    assert (profile.account_id, profile.handle) == (
        connected.account.did,
        connected.account.handle,
    )


# -- publishing ----------------------------------------------------------------------------
def test_publish_text_and_read_it_back(
    connected: Connected, provider: BlueskyProvider, pds: PdsPeer
) -> None:
    req = request("Hello from digipersona", language="en")
    result = provider.publish(connected.credentials, req)

    rkey = deterministic_tid(req.created_at, req.idempotency_key, 0)
    assert TID_RE.match(rkey)
    assert result.external_id == f"at://{connected.account.did}/app.bsky.feed.post/{rkey}"
    assert result.url == f"https://bsky.app/profile/{connected.account.handle}/post/{rkey}"
    body = get_record(pds, result.external_id)
    value = body["value"]
    assert isinstance(value, dict)
    assert value["$type"] == "app.bsky.feed.post"
    assert value["text"] == "Hello from digipersona"
    assert value["langs"] == ["en"]
    assert str(value["createdAt"]).endswith("Z")
    assert "facets" not in value
    assert result.parts[0].extra["cid"] == body["cid"]


def test_facets_use_utf8_byte_offsets(
    connected: Connected, provider: BlueskyProvider, pds: PdsPeer
) -> None:
    bob = pds.create_account("bob")
    text = (
        f"✨日本語のテスト 👨‍👩‍👧 hi @{bob.handle} and @nobody-here.test, read "
        "https://example.com/a?b=1. #日本 #digipersona!"
    )
    result = provider.publish(connected.credentials, request(text))

    value = get_record(pds, result.external_id)["value"]
    assert isinstance(value, dict)
    encoded = text.encode("utf-8")
    spans = {}
    for facet in value["facets"]:
        start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
        spans[encoded[start:end].decode("utf-8")] = facet["features"][0]
    assert spans[f"@{bob.handle}"] == {
        "$type": "app.bsky.richtext.facet#mention",
        "did": bob.did,
    }
    assert spans["https://example.com/a?b=1"] == {
        "$type": "app.bsky.richtext.facet#link",
        "uri": "https://example.com/a?b=1",
    }
    assert spans["#日本"] == {"$type": "app.bsky.richtext.facet#tag", "tag": "日本"}
    assert spans["#digipersona"] == {"$type": "app.bsky.richtext.facet#tag", "tag": "digipersona"}
    # An unresolvable handle stays plain text.
    assert "@nobody-here.test" not in spans
    assert len(spans) == 4


def test_image_post_round_trips_bytes_alt_and_aspect_ratio(
    connected: Connected, provider: BlueskyProvider, pds: PdsPeer
) -> None:
    data = png(300, 200)
    media = [MediaItem(data=data, mime_type="image/png", alt_text="A blue rectangle")]
    result = provider.publish(connected.credentials, request("With a picture", media=media))

    value = get_record(pds, result.external_id)["value"]
    assert isinstance(value, dict)
    embed = value["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    (image,) = embed["images"]
    assert image["alt"] == "A blue rectangle"
    assert image["aspectRatio"] == {"width": 300, "height": 200}
    cid = image["image"]["ref"]["$link"]
    blob = pds.xrpc(
        "GET", "com.atproto.sync.getBlob", params={"did": connected.account.did, "cid": cid}
    )
    assert blob.status_code == 200
    assert blob.content == data


def test_image_over_this_pds_limit_is_invalid_content(
    connected: Connected, provider: BlueskyProvider
) -> None:
    # PDS 0.4.184 still enforces the old 1,000,000-byte image limit at createRecord.
    data = png(620, 600, noise=True)
    assert 1_000_000 < len(data) <= BlueskyProvider.max_image_bytes
    media = [MediaItem(data=data, mime_type="image/png")]
    with pytest.raises(errors.InvalidContent, match="too large"):
        provider.publish(connected.credentials, request("Big picture", media=media))


def test_link_card_when_there_is_a_link_and_no_image(
    connected: Connected, provider: BlueskyProvider, pds: PdsPeer
) -> None:
    req = request(
        "Read this: https://example.org/post",
        link="https://example.org/post",
        link_title="A post",
        link_description="About things",
    )
    result = provider.publish(connected.credentials, req)
    value = get_record(pds, result.external_id)["value"]
    assert isinstance(value, dict)
    assert value["embed"] == {
        "$type": "app.bsky.embed.external",
        "external": {
            "uri": "https://example.org/post",
            "title": "A post",
            "description": "About things",
        },
    }


def test_thread_parts_carry_root_and_parent_strong_refs(
    connected: Connected, provider: BlueskyProvider, pds: PdsPeer
) -> None:
    seen: list[PublishedPart] = []
    req = request("1/3 first", "2/3 second", "3/3 third", on_part_published=seen.append)
    result = provider.publish(connected.credentials, req)

    assert [p.index for p in seen] == [0, 1, 2]
    records = [get_record(pds, part.external_id) for part in result.parts]
    root = {"uri": records[0]["uri"], "cid": records[0]["cid"]}
    first = records[0]["value"]
    assert isinstance(first, dict) and "reply" not in first
    for previous, record in itertools.pairwise(records):
        value = record["value"]
        assert isinstance(value, dict)
        assert value["reply"] == {
            "root": root,
            "parent": {"uri": previous["uri"], "cid": previous["cid"]},
        }


def test_reply_to_another_accounts_post_keeps_the_conversation_root(
    connected: Connected, provider: BlueskyProvider, pds: PdsPeer
) -> None:
    bob = pds.create_account("bob")
    bob_post = pds.xrpc(
        "POST",
        "com.atproto.repo.createRecord",
        token=bob.access_jwt,
        json={
            "repo": bob.did,
            "collection": "app.bsky.feed.post",
            "record": {
                "$type": "app.bsky.feed.post",
                "text": "Bob starts a conversation",
                "createdAt": "2026-09-01T08:00:00.000Z",
            },
        },
    ).json()
    bob_ref = {"uri": bob_post["uri"], "cid": bob_post["cid"]}

    reply = provider.publish(
        connected.credentials,
        request("Alice answers", reply_to=ReplyTarget(parent_id=bob_post["uri"])),
    )
    value = get_record(pds, reply.external_id)["value"]
    assert isinstance(value, dict)
    assert value["reply"] == {"root": bob_ref, "parent": bob_ref}

    # A two-part reply to Alice's reply: the root stays Bob's post for every part.
    deeper = provider.publish(
        connected.credentials,
        request("Alice again", "and more", reply_to=ReplyTarget(parent_id=reply.external_id)),
    )
    first, second = (get_record(pds, p.external_id) for p in deeper.parts)
    assert first["value"]["reply"]["root"] == bob_ref  # type: ignore[index]
    assert first["value"]["reply"]["parent"]["uri"] == reply.external_id  # type: ignore[index]
    assert second["value"]["reply"] == {  # type: ignore[index]
        "root": bob_ref,
        "parent": {"uri": first["uri"], "cid": first["cid"]},
    }


def test_delete_removes_the_post_and_tolerates_a_missing_one(
    connected: Connected, provider: BlueskyProvider, pds: PdsPeer
) -> None:
    result = provider.publish(connected.credentials, request("Short-lived"))
    provider.delete(connected.credentials, result.external_id)
    uri = AtUri.parse(result.external_id)
    gone = pds.xrpc(
        "GET",
        "com.atproto.repo.getRecord",
        params={"repo": uri.repo, "collection": uri.collection, "rkey": uri.rkey},
    )
    assert gone.status_code == 400 and gone.json()["error"] == "RecordNotFound"
    provider.delete(connected.credentials, result.external_id)


# -- retry safety --------------------------------------------------------------------------
def test_timeout_after_write_then_lookup_finds_it_and_a_retry_does_not_duplicate(
    connected: Connected, provider: BlueskyProvider, pds: PdsPeer
) -> None:
    network_down = {"after": False}

    def fault(req: httpx.Request, count: int) -> str | None:
        if req.url.path.endswith("createRecord"):
            network_down["after"] = True
            return "timeout_after"
        return "refuse" if network_down["after"] else None

    transport = FaultTransport(fault)
    req = request("Posted exactly once")
    with pytest.raises(errors.UnknownOutcome):
        faulty_provider(pds, transport).publish(connected.credentials, req)
    assert transport.calls["com.atproto.repo.createRecord"] == 1
    assert len(pds.list_records(connected.account.did)) == 1

    found = provider.lookup(connected.credentials, req)
    assert found is not None
    rkey = deterministic_tid(req.created_at, req.idempotency_key, 0)
    assert found.external_id.endswith(f"/{rkey}")

    # A retry of the same request (say the engine lost the lookup result) collides on the rkey
    # and adopts the existing record instead of posting again.
    again = provider.publish(connected.credentials, req)
    assert again.external_id == found.external_id
    assert again.parts[0].extra["cid"] == found.parts[0].extra["cid"]
    records = pds.list_records(connected.account.did)
    assert [r["value"]["text"] for r in records] == ["Posted exactly once"]


def test_lookup_of_a_request_never_sent_is_none(
    connected: Connected, provider: BlueskyProvider
) -> None:
    assert provider.lookup(connected.credentials, request("never sent")) is None


def test_lookup_resumes_a_thread_interrupted_after_part_two(
    connected: Connected, provider: BlueskyProvider, pds: PdsPeer
) -> None:
    def fault(req: httpx.Request, count: int) -> str | None:
        if req.url.path.endswith("createRecord") and count == 2:
            return "timeout_after"
        if req.url.path.endswith("getRecord"):
            return "refuse"
        return None

    saved: list[PublishedPart] = []
    req = request("one", "two", "three", on_part_published=saved.append)
    with pytest.raises(errors.UnknownOutcome):
        faulty_provider(pds, FaultTransport(fault)).publish(connected.credentials, req)
    assert [p.index for p in saved] == [0]  # part two landed but was never confirmed

    result = provider.lookup(connected.credentials, replace(req, already_published=saved))
    assert result is not None
    assert [p.index for p in result.parts] == [0, 1, 2]
    assert [p.index for p in saved] == [0, 1, 2]
    texts = sorted(r["value"]["text"] for r in pds.list_records(connected.account.did))
    assert texts == ["one", "three", "two"]
    third = get_record(pds, result.parts[2].external_id)["value"]
    assert third["reply"]["parent"]["uri"] == result.parts[1].external_id  # type: ignore[index]
    assert third["reply"]["root"]["uri"] == result.parts[0].external_id  # type: ignore[index]


# -- sessions --------------------------------------------------------------------------------
def forge(token: str, secret: str, **changes: object) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(changes)
    header = jwt.get_unverified_header(token)
    return jwt.encode(claims, secret, algorithm="HS256", headers={"typ": header["typ"]})


def test_an_expired_access_token_is_auth_expired_and_refresh_recovers(
    connected: Connected, provider: BlueskyProvider, pds: PdsPeer
) -> None:
    now = int(datetime.now(UTC).timestamp())
    expired = forge(
        connected.credentials.access_token, pds.jwt_secret, iat=now - 7200, exp=now - 60
    )
    stale = replace(connected.credentials, access_token=expired)
    with pytest.raises(errors.AuthExpired) as info:
        provider.publish(stale, request("needs a fresh token"))
    assert info.value.status_code == 400  # the PDS answers ExpiredToken with 400, not 401
    assert "ExpiredToken" in info.value.message

    tokens = provider.refresh(stale)
    # A new pair (the access JWT may equal the old one byte for byte within the same second).
    assert tokens.refresh_token and tokens.refresh_token != connected.credentials.refresh_token
    assert tokens.expires_at is not None and tokens.expires_at > datetime.now(UTC)
    fresh = Credentials(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        account_id=stale.account_id,
        extra={**stale.extra, **tokens.extra},
    )
    result = provider.publish(fresh, request("after the refresh"))
    assert get_record(pds, result.external_id)["value"]["text"] == "after the refresh"  # type: ignore[index]


def test_a_token_that_does_not_verify_is_auth_expired(
    connected: Connected, provider: BlueskyProvider
) -> None:
    forged = forge(connected.credentials.access_token, "not-the-secret-of-this-pds-" * 2)
    with pytest.raises(errors.AuthExpired, match="InvalidToken"):
        provider.publish(
            replace(connected.credentials, access_token=forged), request("forged session")
        )


def test_a_revoked_refresh_token_asks_for_a_reconnect(
    connected: Connected, provider: BlueskyProvider, pds: PdsPeer
) -> None:
    revoked = pds.xrpc(
        "POST", "com.atproto.server.deleteSession", token=connected.credentials.refresh_token
    )
    assert revoked.status_code == 200
    with pytest.raises(errors.AuthExpired, match="Reconnect the account"):
        provider.refresh(connected.credentials)


def test_an_expired_refresh_token_asks_for_a_reconnect(
    connected: Connected, provider: BlueskyProvider, pds: PdsPeer
) -> None:
    now = int(datetime.now(UTC).timestamp())
    assert connected.credentials.refresh_token
    expired = forge(connected.credentials.refresh_token, pds.jwt_secret, exp=now - 1)
    with pytest.raises(errors.AuthExpired, match="Reconnect the account"):
        provider.refresh(replace(connected.credentials, refresh_token=expired))


# -- errors from the real server ---------------------------------------------------------------
def test_an_invalid_record_from_the_pds_is_invalid_content(
    connected: Connected, pds: PdsPeer
) -> None:
    # The provider checks length itself; this proves the mapping of the PDS's own refusal.
    client = XrpcClient(httpx.Client(), pds.url, timeout_seconds=10)
    with pytest.raises(errors.InvalidContent, match=r"Invalid app\.bsky\.feed\.post record"):
        client.call(
            "POST",
            "com.atproto.repo.createRecord",
            token=connected.credentials.access_token,
            json={
                "repo": connected.account.did,
                "collection": "app.bsky.feed.post",
                "record": {
                    "$type": "app.bsky.feed.post",
                    "text": "x" * 301,
                    "createdAt": "2026-09-01T09:00:00.000Z",
                },
            },
            ambiguous=True,
        )


def test_the_31st_login_in_five_minutes_is_rate_limited_until_the_reset(
    pds: PdsPeer, provider: BlueskyProvider
) -> None:
    # createSession: 30 per 5 minutes per identifier and IP (PDS_RATE_LIMITS_ENABLED=true).
    account = pds.create_account("limited")
    for _ in range(30):
        with pytest.raises(errors.Permanent):
            provider.connect(account.handle, "aaaa-bbbb-cccc-dddd", pds.url)
    before = datetime.now(UTC)
    with pytest.raises(errors.RateLimited) as info:
        provider.connect(account.handle, "aaaa-bbbb-cccc-dddd", pds.url)
    assert info.value.status_code == 429
    assert before < info.value.retry_at <= before + timedelta(seconds=301)
