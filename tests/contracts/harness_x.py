"""Contract harness for X against the loopback fake (``tests/fakes/x.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from digipersona.platforms.base import Credentials, ProviderConfig
from digipersona.platforms.x.provider import XProvider
from tests.contracts.protocol import FAULTS, FaultTransport
from tests.fakes.x import FakeX

TIMEOUT = 3.0  # generous: a loaded CI machine must not time out a normal answer
DELAY = 6.0  # twice the client timeout


@dataclass
class XHarness:
    """See ``tests/contracts/protocol.py``."""

    fake: FakeX
    transport: FaultTransport
    provider: XProvider
    credentials: Credentials
    supported_faults: frozenset[str] = frozenset(FAULTS)
    lookup_needs_record: bool = False

    def read_back(self, external_id: str) -> dict[str, Any] | None:
        """A post as stored (the text as sent)."""
        tweet = self.fake.tweets.get(external_id)
        if tweet is None or tweet["deleted"]:
            return None
        return {
            "text": tweet["text"],
            "images": [
                {"alt_text": self.fake.media[m]["alt_text"] or ""} for m in tweet["media_ids"]
            ],
            "parent_id": tweet["replied_to"],
        }

    def count_posts(self) -> int:
        """Live top-level posts of the account."""
        return sum(1 for t in self.fake.live_posts(self.fake.me) if t["replied_to"] is None)

    def seed_interaction(self, on_external_id: str, text: str) -> str:
        """Someone else replies to one of our posts (it shows in our mentions timeline)."""
        author = self.fake.add_user(f"u{len(self.fake.users)}", "Someone Else")
        return self.fake.add_mention(author, text, reply_to=on_external_id)

    def read_credentials(self) -> Credentials:
        """The connection's credentials suffice to read mentions."""
        return self.credentials

    def inject(self, fault: str) -> None:
        """Arm a fault for the next ``POST /2/tweets``."""
        if fault == "server_error":
            self.fake.fail_next(500, method="POST", path="/2/tweets")
        elif fault == "timeout_before_send":
            self.transport.fail_next_connect()
        elif fault == "timeout_after_write":
            self.fake.delay_next(DELAY, when="after", method="POST", path="/2/tweets")
        elif fault == "rate_limit":
            self.fake.rate_limit_next(method="POST", path="/2/tweets")
        elif fault == "expired_token":
            self.fake.expire_token(self.credentials.access_token)
        else:
            raise ValueError(f"unknown fault {fault}")


@contextmanager
def make_harness() -> Iterator[XHarness]:
    """A fresh fake X, a provider pointed at it, and a connected account."""
    fake = FakeX()
    transport = FaultTransport()
    with fake.running(), httpx.Client(transport=transport) as http:
        config = ProviderConfig(
            client_id=fake.client_id,
            api_url=fake.url,
            authorize_url=f"{fake.url}/i/oauth2/authorize",
            timeout_seconds=TIMEOUT,
        )
        credentials = Credentials(
            access_token=fake.issue_token(),
            account_id=fake.me.id,
            extra={"username": fake.me.username},
        )
        yield XHarness(fake, transport, XProvider(config, http), credentials)
