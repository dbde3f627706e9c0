"""The webhook target against a signature-checking receiver on loopback."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from digipersona.platforms import errors
from digipersona.platforms.base import Credentials, MediaItem, ProviderConfig, PublishRequest
from digipersona.platforms.registry import get_provider_class
from digipersona.platforms.webhook.provider import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookProvider,
    sign,
    verify_signature,
)
from tests.fakes.server import RunningServer, free_port, serve
from tests.fakes.webhook_receiver import Reply, WebhookReceiver

SECRET = "whsec-test-0123456789abcdef"
CREATED = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def receiver() -> WebhookReceiver:
    return WebhookReceiver(SECRET)


@pytest.fixture
def server(receiver: WebhookReceiver) -> Iterator[RunningServer]:
    with serve(receiver) as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def provider(http: httpx.Client, timeout: float = 5.0) -> WebhookProvider:
    return WebhookProvider(ProviderConfig(timeout_seconds=timeout), http)


def creds(server: RunningServer, secret: str = SECRET) -> Credentials:
    url = f"{server.url}/hook"
    return Credentials(access_token=secret, account_id=url, extra={"url": url})


def request(**kwargs: object) -> PublishRequest:
    values: dict[str, object] = {
        "parts": ["Hello, receivers 👋"],
        "idempotency_key": "pub-123",
        "created_at": CREATED,
        "link": "https://example.com/a",
        "document": {"post_id": "p-1", "persona": {"id": "x", "name": "Ada"}, "tags": ["t"]},
    }
    values.update(kwargs)
    return PublishRequest(**values)  # type: ignore[arg-type]


def test_capabilities_and_registry() -> None:
    assert get_provider_class("webhook") is WebhookProvider
    assert WebhookProvider.auth_kind == "webhook"
    assert WebhookProvider.max_length == 100_000
    assert WebhookProvider.supports_threads is False
    assert WebhookProvider.link_handling == "payload"


def test_publish_delivers_a_signed_document(
    http: httpx.Client, server: RunningServer, receiver: WebhookReceiver
) -> None:
    media = [MediaItem(data=b"\x89PNG-bytes", mime_type="image/png", alt_text="logo", width=2)]
    result = provider(http).publish(creds(server), request(media=media))

    assert receiver.rejected == []
    (delivery,) = receiver.deliveries
    assert delivery.headers["x-digipersona-idempotency-key"] == "pub-123"
    assert delivery.headers["x-digipersona-event"] == "post.published"
    assert delivery.headers["user-agent"].startswith("digipersona/")
    assert delivery.headers["content-type"].startswith("application/json")
    body = delivery.body
    assert body["post_id"] == "p-1" and body["persona"]["name"] == "Ada"
    assert body["parts"] == ["Hello, receivers 👋"]
    assert body["idempotency_key"] == "pub-123"
    assert body["created_at"] == "2026-09-01T09:00:00Z"
    assert body["link"] == "https://example.com/a"
    assert base64.b64decode(body["media"][0]["data_base64"]) == b"\x89PNG-bytes"
    assert body["media"][0]["alt_text"] == "logo"
    # The receiver's reply names its id and URL.
    assert result.external_id == "hook-1"
    assert result.url == "https://hooks.example.test/posts/1"


def test_a_reply_without_an_id_uses_the_idempotency_key(
    http: httpx.Client, server: RunningServer, receiver: WebhookReceiver
) -> None:
    receiver.script.append(Reply(status=204, store=True))
    result = provider(http).publish(creds(server), request())
    assert (result.external_id, result.url) == ("pub-123", None)
    assert list(receiver.posts) == ["pub-123"]


def test_the_wrong_secret_is_a_permanent_error_naming_the_secret(
    http: httpx.Client, server: RunningServer, receiver: WebhookReceiver
) -> None:
    with pytest.raises(errors.Permanent) as info:
        provider(http).publish(creds(server, secret="another-secret"), request())
    assert info.value.status_code == 401
    assert "bad signature" in info.value.message
    assert "signing secret" in info.value.message
    assert receiver.posts == {}


def test_429_waits_for_retry_after(
    http: httpx.Client, server: RunningServer, receiver: WebhookReceiver
) -> None:
    receiver.script.append(
        Reply(status=429, body={"message": "slow down"}, headers={"Retry-After": "120"})
    )
    before = datetime.now(UTC)
    with pytest.raises(errors.RateLimited) as info:
        provider(http).publish(creds(server), request())
    assert before + timedelta(seconds=119) <= info.value.retry_at
    assert info.value.retry_at <= datetime.now(UTC) + timedelta(seconds=121)


@pytest.mark.parametrize("status", [500, 503, 408])
def test_server_errors_are_transient(
    status: int, http: httpx.Client, server: RunningServer, receiver: WebhookReceiver
) -> None:
    receiver.script.append(Reply(status=status, body="boom"))
    with pytest.raises(errors.Transient, match="boom"):
        provider(http).publish(creds(server), request())


def test_4xx_is_permanent_with_the_receivers_message(
    http: httpx.Client, server: RunningServer, receiver: WebhookReceiver
) -> None:
    receiver.script.append(Reply(status=422, body={"message": "title is required"}))
    with pytest.raises(errors.Permanent, match="title is required") as info:
        provider(http).publish(creds(server), request())
    assert not isinstance(info.value, errors.Transient)


def test_a_timeout_after_sending_is_unknown_and_the_retry_is_deduplicated(
    http: httpx.Client, server: RunningServer, receiver: WebhookReceiver
) -> None:
    receiver.script.append(Reply(status=201, body={"id": "late"}, delay=4.0, store=True))
    slow = provider(http, timeout=1.5)
    with pytest.raises(errors.UnknownOutcome):
        slow.publish(creds(server), request())
    # lookup cannot ask the receiver: the engine re-delivers with the same key.
    assert slow.lookup(creds(server), request()) is None
    result = provider(http).publish(creds(server), request())
    assert result.external_id == "hook-1"
    assert len(receiver.deliveries) == 2
    assert list(receiver.posts) == ["pub-123"]  # stored once


def test_a_refused_connection_is_transient(http: httpx.Client) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"
    credentials = Credentials(access_token=SECRET, extra={"url": url})
    with pytest.raises(errors.Transient):
        provider(http).publish(credentials, request())


def test_a_connection_without_a_url_asks_for_a_reconnect(http: httpx.Client) -> None:
    with pytest.raises(errors.Permanent, match="reconnect"):
        provider(http).publish(Credentials(access_token=SECRET), request())


def test_delete_sends_a_signed_event_and_a_404_counts_as_deleted(
    http: httpx.Client, server: RunningServer, receiver: WebhookReceiver
) -> None:
    provider(http).delete(creds(server), "hook-1")
    (delivery,) = receiver.deliveries
    assert delivery.body["event"] == "post.deleted"
    assert delivery.body["external_id"] == "hook-1"
    receiver.script.append(Reply(status=404, body={"message": "unknown"}))
    provider(http).delete(creds(server), "hook-2")


def test_profile_and_refresh_need_no_network(server: RunningServer) -> None:
    offline = WebhookProvider(
        ProviderConfig(), httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    )
    profile = offline.profile(creds(server))
    assert profile.handle == f"127.0.0.1:{server.port}"
    assert offline.refresh(creds(server)).access_token == SECRET


def test_verify_signature_accepts_the_real_header_and_rejects_tampering() -> None:
    body = b'{"event":"post.published"}'
    now = int(time.time())
    signature = sign(SECRET, now, body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify_signature(SECRET, str(now), body, signature)
    assert not verify_signature(SECRET, str(now), body + b" ", signature)
    assert not verify_signature("other", str(now), body, signature)
    assert not verify_signature(SECRET, str(now), body, signature.removeprefix("sha256="))
    assert not verify_signature(SECRET, "not-a-number", body, signature)
    # Outside the tolerance window (replay protection).
    old = now - 301
    assert not verify_signature(SECRET, old, body, sign(SECRET, old, body))
    assert verify_signature(SECRET, old, body, sign(SECRET, old, body), tolerance_seconds=600)


def test_receivers_can_verify_what_the_provider_sent(
    http: httpx.Client, server: RunningServer, receiver: WebhookReceiver
) -> None:
    provider(http).publish(creds(server), request())
    (delivery,) = receiver.deliveries
    assert verify_signature(
        SECRET,
        delivery.headers[TIMESTAMP_HEADER.lower()],
        delivery.raw,
        delivery.headers[SIGNATURE_HEADER.lower()],
    )
    assert delivery.headers[IDEMPOTENCY_HEADER.lower()] == "pub-123"


def test_too_long_is_invalid_content_before_sending(
    http: httpx.Client, server: RunningServer, receiver: WebhookReceiver
) -> None:
    with pytest.raises(errors.InvalidContent, match="100000"):
        provider(http).publish(creds(server), request(parts=["x" * 100_001]))
    assert receiver.deliveries == []


def test_lookup_returns_only_what_the_engine_recorded(
    http: httpx.Client, server: RunningServer
) -> None:
    seen: list[int] = []
    req = request(parts=["one", "two"], on_part_published=lambda p: seen.append(p.index))
    result = provider(http).publish(creds(server), req)
    assert seen == [0, 1]
    assert [p.external_id for p in result.parts] == ["hook-1", "hook-1#1"]
    assert provider(http).lookup(creds(server), request(parts=["one", "two"])) is None
    partial = request(parts=["one", "two"], already_published=result.parts[:1])
    assert provider(http).lookup(creds(server), partial) is None
    recorded = request(parts=["one", "two"], already_published=result.parts)
    found = provider(http).lookup(creds(server), recorded)
    assert found is not None and found.external_id == "hook-1"


def test_the_factory_gives_user_url_platforms_the_guarded_client(
    http: httpx.Client, server: RunningServer, receiver: WebhookReceiver
) -> None:
    from digipersona.config import Settings
    from digipersona.kit.outbound import GuardedClient
    from digipersona.platforms.factory import build_provider

    assert WebhookProvider.user_chosen_urls and get_provider_class("bluesky").user_chosen_urls
    public_only = Settings(outbound_allowed_networks="")
    bluesky = build_provider("bluesky", public_only, http)
    assert isinstance(bluesky.http, GuardedClient)
    # LinkedIn and X call the hosts the operator configured: they keep the client they are given.
    assert not get_provider_class("linkedin").user_chosen_urls
    assert build_provider("linkedin", public_only, http).http is http

    # Handed an unguarded client, the webhook target still cannot reach loopback: nothing is
    # sent, and the failure is permanent (a retry would be refused the same way).
    hook = build_provider("webhook", public_only, http)
    with pytest.raises(errors.Permanent) as caught:
        hook.publish(creds(server), request())
    assert not isinstance(caught.value, errors.Transient)
    assert "Refused to connect to 127.0.0.1: it is a loopback address" in caught.value.message
    assert receiver.deliveries == [] and receiver.rejected == []
    allowed = build_provider("webhook", Settings(outbound_allowed_networks="127.0.0.0/8"), http)
    assert allowed.publish(creds(server), request()).external_id
    assert len(receiver.deliveries) == 1


def test_a_non_http_url_in_the_reply_is_dropped_and_the_post_still_counts(
    http: httpx.Client, server: RunningServer, receiver: WebhookReceiver
) -> None:
    # A receiver answering a javascript: link must not get it onto the dashboard (stored XSS).
    receiver.script.append(
        Reply(
            status=201,
            body={"id": "hook-9", "url": "javascript:alert(document.domain)"},
            store=True,
        )
    )
    result = provider(http).publish(creds(server), request())
    assert (result.external_id, result.url) == ("hook-9", None)
    assert [part.url for part in result.parts] == [None]
