"""Contract harness for LinkedIn against the loopback fake (``tests/fakes/linkedin.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from digipersona.platforms.base import Credentials, ProviderConfig
from digipersona.platforms.linkedin.provider import LinkedInProvider
from tests.contracts.protocol import FAULTS, FaultTransport
from tests.fakes.linkedin import FakeLinkedIn

# The client gives up after TIMEOUT; the fake answers DELAY after applying the write.
TIMEOUT = 3.0  # generous: a loaded CI machine must not time out a normal answer
DELAY = 6.0  # twice the client timeout


@dataclass
class LinkedInHarness:
    """See ``tests/contracts/protocol.py``."""

    fake: FakeLinkedIn
    transport: FaultTransport
    provider: LinkedInProvider
    credentials: Credentials
    supported_faults: frozenset[str] = frozenset(FAULTS)
    lookup_needs_record: bool = True

    def read_back(self, external_id: str) -> dict[str, Any] | None:
        """A post (text as a reader sees it) or a comment."""
        post = self.fake.posts.get(external_id)
        if post is not None and not post["deleted"]:
            content = post["content"] or {}
            images = []
            if "media" in content:
                images = [content["media"]]
            elif "multiImage" in content:
                images = content["multiImage"]["images"]
            return {
                "text": post["text"],
                "images": [{"alt_text": i.get("altText", "")} for i in images],
                "parent_id": None,
                "content": content,
            }
        comment = self.fake.comments.get(external_id)
        if comment is not None:
            return {
                "text": comment["message"]["text"],
                "images": [],
                "parent_id": comment["object"],
            }
        return None

    def count_posts(self) -> int:
        """Live posts on the member's profile."""
        return len(self.fake.live_posts())

    def seed_interaction(self, on_external_id: str, text: str) -> str:
        """Another member comments on one of our posts."""
        member = self.fake.add_member(f"m{len(self.fake.members)}", "Someone Else", "s@example.com")
        return self.fake.add_comment(on_external_id, member, text)

    def read_credentials(self) -> Credentials:
        """Reading comments needs the restricted r_member_social permission (3.6)."""
        scopes = ("openid", "profile", "email", "w_member_social", "r_member_social")
        return Credentials(
            access_token=self.fake.issue_token(scopes=scopes),
            account_id=self.credentials.account_id,
            scopes=scopes,
        )

    def inject(self, fault: str) -> None:
        """Arm a fault for the next ``POST /rest/posts``."""
        if fault == "server_error":
            self.fake.fail_next(500, method="POST", path="/rest/posts")
        elif fault == "timeout_before_send":
            self.transport.fail_next_connect()
        elif fault == "timeout_after_write":
            self.fake.delay_next(DELAY, when="after", method="POST", path="/rest/posts")
        elif fault == "rate_limit":
            self.fake.rate_limit_next(method="POST", path="/rest/posts")
        elif fault == "expired_token":
            self.fake.expire_token(self.credentials.access_token)
        else:
            raise ValueError(f"unknown fault {fault}")


@contextmanager
def make_harness() -> Iterator[LinkedInHarness]:
    """A fresh fake LinkedIn, a provider pointed at it, and a connected member."""
    fake = FakeLinkedIn()
    transport = FaultTransport()
    with fake.running(), httpx.Client(transport=transport) as http:
        config = ProviderConfig(
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            api_url=fake.url,
            oauth_url=f"{fake.url}/oauth/v2",
            api_version="202609",
            timeout_seconds=TIMEOUT,
        )
        credentials = Credentials(access_token=fake.issue_token(), account_id=fake.consenting.urn)
        yield LinkedInHarness(fake, transport, LinkedInProvider(config, http), credentials)
