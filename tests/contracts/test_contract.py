"""The provider contract: one suite every provider passes (harnesses in ``harness_*.py``).

See ``protocol.py`` for what a harness provides and what each case proves.
"""

from __future__ import annotations

import base64
import importlib
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, get_args

import pytest

from digipersona.kit.time import utcnow
from digipersona.platforms import errors
from digipersona.platforms.base import (
    AuthKind,
    LengthUnit,
    LinkHandling,
    MediaItem,
    PublishRequest,
    PublishResult,
)
from digipersona.platforms.registry import get_provider_class
from tests.contracts.protocol import Harness

# Harnesses that need a real peer carry its marker, so a missing peer fails CI instead of
# skipping quietly (DIGIPERSONA_REQUIRE_PEERS=1).
PEER_MARKS = {"harness_bluesky": [pytest.mark.pds]}
HARNESSES = [
    pytest.param(stem, marks=PEER_MARKS.get(stem, []))
    for stem in sorted(path.stem for path in Path(__file__).parent.glob("harness_*.py"))
]
# A 1x1 PNG: small enough for every platform, a real image for those that check.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


# Harnesses that can make another account answer a post. Bluesky's read-back needs the AppView,
# which the bare PDS of its harness lacks: it is proven against the full local network in
# tests/platforms/bluesky/test_readback_network.py.
SEEDING_HARNESSES = [p for p in HARNESSES if p.values[0] in {"harness_linkedin", "harness_x"}]


def _build(stem: str) -> Any:
    return importlib.import_module(f"tests.contracts.{stem}").make_harness()


@pytest.fixture(params=HARNESSES)
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with _build(request.param) as built:
        yield built


@pytest.fixture(params=SEEDING_HARNESSES)
def seeding_harness(request: pytest.FixtureRequest) -> Iterator[Any]:
    with _build(request.param) as built:
        yield built


def _request(parts: list[str], **kwargs: Any) -> PublishRequest:
    return PublishRequest(
        parts=parts, idempotency_key=str(uuid.uuid4()), created_at=utcnow(), **kwargs
    )


def _text(label: str) -> str:
    # Reserved little-text characters and a hashtag: escaping must round-trip them.
    return f"Contract {label} {uuid.uuid4().hex[:8]}: ship it (today) #digipersona"


def _require(harness: Harness, fault: str) -> None:
    if fault not in harness.supported_faults:
        pytest.skip(f"{type(harness).__name__} cannot inject {fault}")


def _reconcile(harness: Harness, request: PublishRequest) -> PublishResult:
    """What the engine does after an ambiguous failure: lookup, then publish only if None."""
    found = harness.provider.lookup(harness.credentials, request)
    return found or harness.provider.publish(harness.credentials, request)


def test_capabilities_are_declared(harness: Harness) -> None:
    cls = type(harness.provider)
    assert get_provider_class(cls.name) is cls
    assert cls.display_name
    assert cls.auth_kind in get_args(AuthKind)
    assert cls.length_unit in get_args(LengthUnit)
    assert cls.link_handling in get_args(LinkHandling)
    assert 0 < cls.max_length <= 100_000
    assert 0 <= cls.max_images <= 20
    assert cls.max_image_bytes > 0
    assert cls.image_types and all(t.startswith("image/") for t in cls.image_types)
    assert isinstance(cls.supports_threads, bool)
    if cls.auth_kind in ("oauth2", "oauth2_pkce"):
        assert cls.scopes


def test_publish_text_reads_back_equal(harness: Harness) -> None:
    request = _request([_text("text")])
    result = harness.provider.publish(harness.credentials, request)
    assert result.external_id
    stored = harness.read_back(result.external_id)
    assert stored is not None
    assert stored["text"] == request.parts[0]
    assert stored["parent_id"] is None
    assert harness.count_posts() == 1


def test_publish_thread_keeps_parts_in_order(harness: Harness) -> None:
    marker = uuid.uuid4().hex[:8]
    parts = [f"Thread {marker} part {n} of 3" for n in (1, 2, 3)]
    seen: list[int] = []
    request = _request(parts, on_part_published=lambda part: seen.append(part.index))
    result = harness.provider.publish(harness.credentials, request)
    assert [p.index for p in result.parts] == [0, 1, 2]
    assert seen == [0, 1, 2]
    assert result.external_id == result.parts[0].external_id
    for index, part in enumerate(result.parts):
        stored = harness.read_back(part.external_id)
        assert stored is not None
        assert stored["text"] == parts[index]
        if index == 0:
            assert stored["parent_id"] is None
        elif type(harness.provider).supports_threads:
            assert stored["parent_id"] == result.parts[index - 1].external_id
        else:
            assert stored["parent_id"] == result.parts[0].external_id
    assert harness.count_posts() == 1


def test_publish_with_an_image(harness: Harness) -> None:
    image = MediaItem(data=PNG, mime_type="image/png", alt_text="A single pixel", width=1, height=1)
    request = _request([_text("image")], media=[image])
    result = harness.provider.publish(harness.credentials, request)
    stored = harness.read_back(result.external_id)
    assert stored is not None
    assert stored["text"] == request.parts[0]
    assert stored["images"] == [{"alt_text": "A single pixel"}]


def test_lookup_finds_a_successful_publish(harness: Harness) -> None:
    request = _request([_text("lookup")])
    result = harness.provider.publish(harness.credentials, request)
    if harness.lookup_needs_record:
        request = _request(list(request.parts), already_published=result.parts)
    found = harness.provider.lookup(harness.credentials, request)
    assert found is not None
    assert found.external_id == result.external_id
    assert [p.external_id for p in found.parts] == [p.external_id for p in result.parts]


def test_lookup_of_a_never_sent_post_is_none(harness: Harness) -> None:
    harness.provider.publish(harness.credentials, _request([_text("other")]))
    assert harness.provider.lookup(harness.credentials, _request([_text("never")])) is None


def test_server_error_is_retryable_and_never_duplicates(harness: Harness) -> None:
    _require(harness, "server_error")
    request = _request([_text("5xx")])
    harness.inject("server_error")
    with pytest.raises((errors.Transient, errors.UnknownOutcome)):
        harness.provider.publish(harness.credentials, request)
    result = _reconcile(harness, request)
    assert harness.count_posts() == 1
    stored = harness.read_back(result.external_id)
    assert stored is not None and stored["text"] == request.parts[0]


def test_timeout_before_send_is_transient_and_sends_nothing(harness: Harness) -> None:
    _require(harness, "timeout_before_send")
    request = _request([_text("connect")])
    harness.inject("timeout_before_send")
    with pytest.raises(errors.Transient):
        harness.provider.publish(harness.credentials, request)
    assert harness.count_posts() == 0
    harness.provider.publish(harness.credentials, request)
    assert harness.count_posts() == 1


def test_timeout_after_write_is_unknown_and_reconciles_without_duplicate(
    harness: Harness,
) -> None:
    _require(harness, "timeout_after_write")
    request = _request([_text("timeout")])
    harness.inject("timeout_after_write")
    with pytest.raises(errors.UnknownOutcome):
        harness.provider.publish(harness.credentials, request)
    assert harness.count_posts() == 1
    result = _reconcile(harness, request)
    assert harness.count_posts() == 1
    stored = harness.read_back(result.external_id)
    assert stored is not None and stored["text"] == request.parts[0]


def test_rate_limit_is_rate_limited_with_a_future_reset(harness: Harness) -> None:
    _require(harness, "rate_limit")
    harness.inject("rate_limit")
    before = utcnow()
    with pytest.raises(errors.RateLimited) as caught:
        harness.provider.publish(harness.credentials, _request([_text("429")]))
    retry_at: datetime = caught.value.retry_at
    assert retry_at.tzinfo is not None and retry_at > before
    assert harness.count_posts() == 0


def test_expired_token_is_auth_expired(harness: Harness) -> None:
    _require(harness, "expired_token")
    harness.inject("expired_token")
    with pytest.raises(errors.AuthExpired):
        harness.provider.publish(harness.credentials, _request([_text("401")]))
    assert harness.count_posts() == 0


def test_fetch_interactions_finds_new_answers_after_the_cursor(seeding_harness: Any) -> None:
    harness = seeding_harness
    assert harness.provider.supports_interactions
    seed = harness.seed_interaction
    ours = harness.provider.publish(harness.credentials, _request([_text("answered")]))
    credentials = harness.read_credentials()
    recent = [ours.external_id]
    before = harness.provider.fetch_interactions(credentials, cursor=None, recent_posts=recent)
    first = seed(ours.external_id, "Can we talk about a workshop for our team?")
    second = seed(ours.external_id, "Following up on this")
    page = harness.provider.fetch_interactions(
        credentials, cursor=before.cursor, recent_posts=recent
    )
    ids = [item.external_id for item in page.items]
    assert first in ids and second in ids and ids.index(first) < ids.index(second)
    item = page.items[ids.index(first)]
    assert "workshop" in item.text
    assert item.created_at.tzinfo is not None
    assert item.reply_target is not None and item.kind in ("reply", "comment", "mention")
    assert page.cursor is not None
    # Nothing is lost after the new cursor; a re-read of the newest items is allowed.
    third = seed(ours.external_id, "One more question")
    later = harness.provider.fetch_interactions(
        credentials, cursor=page.cursor, recent_posts=recent
    )
    assert third in [i.external_id for i in later.items]
