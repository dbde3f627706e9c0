"""A scriptable in-memory platform for engine tests: faults on demand, a store to count posts.

It follows the provider contract: ``lookup`` finds what a previous attempt with the same
idempotency key published (like Bluesky's client-chosen rkey), and faults marked "after" apply
the write before failing, like a timeout after the platform accepted the post.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from digipersona.kit.time import utcnow
from digipersona.platforms import errors
from digipersona.platforms.base import (
    Credentials,
    Profile,
    Provider,
    PublishedPart,
    PublishRequest,
    PublishResult,
    TokenSet,
)


@dataclass
class FakePlatform:
    """Shared state of the fake platform (one per test)."""

    posts: dict[str, list[str]] = field(default_factory=dict)  # key -> published parts
    writes: Counter[str] = field(default_factory=Counter)  # part writes per key:index
    faults: list[str] = field(default_factory=list)
    latency: float = 0.0
    refresh_ok: bool = True
    refreshes: int = 0
    valid_token: str = "token-1"
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    clock: Callable[[], datetime] = utcnow

    def next_fault(self) -> str | None:
        with self.lock:
            return self.faults.pop(0) if self.faults else None

    def total_posts(self) -> int:
        return len(self.posts)

    def duplicates(self) -> int:
        return sum(count - 1 for count in self.writes.values() if count > 1)


PLATFORM = FakePlatform()


class FakeProvider(Provider):
    name: ClassVar[str] = "fake"
    display_name: ClassVar[str] = "Fake"
    auth_kind = "oauth2"
    max_length: ClassVar[int] = 500
    length_unit = "chars"
    max_images: ClassVar[int] = 4
    max_image_bytes: ClassVar[int] = 5_000_000
    supports_threads: ClassVar[bool] = True
    link_handling = "inline"

    @property
    def platform(self) -> FakePlatform:
        return PLATFORM

    def refresh(self, credentials: Credentials) -> TokenSet:
        p = self.platform
        p.calls.append("refresh")
        with p.lock:
            p.refreshes += 1
            if not p.refresh_ok:
                raise errors.AuthExpired("The refresh token was revoked.")
            p.valid_token = f"token-{p.refreshes + 1}"
        return TokenSet(
            access_token=p.valid_token,
            refresh_token=f"refresh-{p.refreshes + 1}",
            expires_at=utcnow() + timedelta(hours=2),
        )

    def profile(self, credentials: Credentials) -> Profile:
        return Profile(account_id="fake-1", handle="fake")

    def publish(self, credentials: Credentials, request: PublishRequest) -> PublishResult:
        p = self.platform
        p.calls.append("publish")
        if p.latency:
            time.sleep(p.latency)
        if credentials.access_token != p.valid_token:
            raise errors.AuthExpired("Token expired.")
        fault = p.next_fault()
        now = p.clock()
        if fault == "transient":
            raise errors.Transient("503 from the fake")
        if fault == "permanent":
            raise errors.Permanent("403 forbidden by the fake")
        if fault == "invalid":
            raise errors.InvalidContent("text too long for the fake")
        if fault == "rate_limit":
            raise errors.RateLimited("429", now + timedelta(minutes=15))
        if fault == "quota":
            raise errors.QuotaExhausted("credits depleted")
        if fault == "auth":
            p.valid_token = "expired"
            raise errors.AuthExpired("Token expired.")
        if fault == "unknown_before":
            raise errors.UnknownOutcome("timeout before the write")
        if fault == "boom":
            raise RuntimeError("a bug in a provider")
        done = {part.index: part for part in request.already_published}
        parts_out: list[PublishedPart] = []
        for index, text in enumerate(request.parts):
            if index in done:
                parts_out.append(done[index])
                continue
            key = f"{request.idempotency_key}:{index}"
            with p.lock:
                p.writes[key] += 1
                p.posts.setdefault(request.idempotency_key, []).append(text)
            part = PublishedPart(index=index, external_id=key, url=f"https://fake.example/{key}")
            parts_out.append(part)
            if request.on_part_published:
                request.on_part_published(part)
            if fault == "unknown_after_part" and index == 0 and len(request.parts) > 1:
                raise errors.UnknownOutcome("connection reset after part 1")
        if fault == "unknown_after":
            raise errors.UnknownOutcome("timeout after the write")
        return PublishResult(
            external_id=parts_out[0].external_id, url=parts_out[0].url, parts=parts_out
        )

    def lookup(self, credentials: Credentials, request: PublishRequest) -> PublishResult | None:
        p = self.platform
        p.calls.append("lookup")
        parts = p.posts.get(request.idempotency_key)
        if not parts or len(parts) < len(request.parts):
            return None
        key = f"{request.idempotency_key}:0"
        return PublishResult(external_id=key, url=f"https://fake.example/{key}")

    def delete(self, credentials: Credentials, external_id: str) -> None:
        return None


def reset() -> FakePlatform:
    global PLATFORM
    PLATFORM = FakePlatform()
    return PLATFORM


def now_plus(seconds: float) -> datetime:
    return utcnow() + timedelta(seconds=seconds)
