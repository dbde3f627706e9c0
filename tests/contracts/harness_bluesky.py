"""Contract harness for Bluesky against the real PDS (@atproto/pds 0.4.x) on loopback.

One PDS is started for the whole test process (start-up takes seconds) and stopped at exit;
every harness gets a fresh account, so ``count_posts`` sees only its own posts. Skips with a
one-line reason when the PDS is not installed (``scripts/peers/install-pds.sh``).

Faults, at the transport in front of the real server unless noted:

- ``server_error``: the next ``createRecord`` is answered 500 without reaching the PDS (the PDS
  cannot be made to fail on demand; 500 is what it sends for a taken rkey).
- ``timeout_before_send``: the next connection attempt times out.
- ``timeout_after_write``: ``createRecord`` reaches the PDS, which stores the post; the client
  then times out, and the network stays down for the provider's immediate ``getRecord``
  read-back, so the outcome stays unknown until the engine reconciles.
- ``rate_limit``: the next ``createRecord`` gets the PDS's 429 shape (``RateLimit-*`` headers,
  verified against the real server's createSession limit in tests/platforms/bluesky).
- ``expired_token``: a real expired access JWT (signed with the PDS's secret): the PDS itself
  answers ``400 ExpiredToken``.
"""

from __future__ import annotations

import atexit
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import jwt
import pytest

from digipersona.platforms.base import Credentials, ProviderConfig
from digipersona.platforms.bluesky.provider import BlueskyProvider
from digipersona.platforms.bluesky.schemas import AtUri
from tests.contracts.protocol import FAULTS, FaultTransport
from tests.peers.pds_harness import PdsPeer, find_install

TIMEOUT = 5.0
CREATE = "/xrpc/com.atproto.repo.createRecord"
GET = "/xrpc/com.atproto.repo.getRecord"
_peer: PdsPeer | None = None


def _shared_peer() -> PdsPeer:
    global _peer
    if _peer is None:
        install, reason = find_install()
        if install is None:
            pytest.skip(reason)
        _peer = PdsPeer.start(install)
        atexit.register(_peer.stop)
    return _peer


class PdsFaults(FaultTransport):
    """FaultTransport plus one-shot faults on ``createRecord`` (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.armed: str | None = None
        self.refuse_next_read_back = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Apply an armed fault to the next createRecord, else forward to the PDS."""
        if self.refuse_next_read_back and request.url.path == GET:
            self.refuse_next_read_back = False
            raise httpx.ConnectTimeout("injected: network still down", request=request)
        if self.armed and request.url.path == CREATE:
            fault, self.armed = self.armed, None
            if fault == "server_error":
                return httpx.Response(
                    500, json={"error": "InternalServerError", "message": "Internal Server Error"}
                )
            if fault == "rate_limit":
                reset = int(time.time()) + 3600
                return httpx.Response(
                    429,
                    json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                    headers={
                        "RateLimit-Limit": "5000",
                        "RateLimit-Remaining": "0",
                        "RateLimit-Reset": str(reset),
                        "RateLimit-Policy": "5000;w=3600",
                    },
                )
            if fault == "timeout_after_write":
                response = super().handle_request(request)
                response.read()
                response.close()
                self.refuse_next_read_back = True
                raise httpx.ReadTimeout("injected: answer came too late", request=request)
        return super().handle_request(request)


@dataclass
class BlueskyHarness:
    """See ``tests/contracts/protocol.py``."""

    pds: PdsPeer
    transport: PdsFaults
    provider: BlueskyProvider
    credentials: Credentials
    supported_faults: frozenset[str] = field(default=frozenset(FAULTS))
    lookup_needs_record: bool = False

    @property
    def did(self) -> str:
        return str(self.credentials.extra["did"])

    def read_back(self, external_id: str) -> dict[str, Any] | None:
        """The record as the PDS holds it."""
        uri = AtUri.parse(external_id)
        response = self.pds.xrpc(
            "GET",
            "com.atproto.repo.getRecord",
            params={"repo": uri.repo, "collection": uri.collection, "rkey": uri.rkey},
        )
        if response.status_code == 400 and response.json().get("error") == "RecordNotFound":
            return None
        response.raise_for_status()
        value = response.json()["value"]
        embed = value.get("embed") or {}
        images = embed.get("images", []) if embed.get("$type") == "app.bsky.embed.images" else []
        reply = value.get("reply")
        return {
            "text": value["text"],
            "images": [{"alt_text": image["alt"]} for image in images],
            "parent_id": reply["parent"]["uri"] if reply else None,
        }

    def count_posts(self) -> int:
        """Top-level posts (no ``reply``) in the account's repo."""
        return sum(1 for r in self.pds.list_records(self.did) if "reply" not in r["value"])

    def inject(self, fault: str) -> None:
        """Arm one fault for the next post-creating request."""
        if fault == "timeout_before_send":
            self.transport.fail_next_connect()
        elif fault in ("server_error", "rate_limit", "timeout_after_write"):
            self.transport.armed = fault
        elif fault == "expired_token":
            claims = jwt.decode(self.credentials.access_token, options={"verify_signature": False})
            now = int(time.time())
            claims.update(iat=now - 7200, exp=now - 60)
            expired = jwt.encode(
                claims, self.pds.jwt_secret, algorithm="HS256", headers={"typ": "at+jwt"}
            )
            self.credentials = replace(self.credentials, access_token=expired)
        else:
            raise ValueError(f"unknown fault {fault}")


@contextmanager
def make_harness() -> Iterator[BlueskyHarness]:
    """A fresh account on the shared PDS, connected through the provider with an app password."""
    pds = _shared_peer()
    account = pds.create_account("contract")
    app_password = pds.create_app_password(account)
    transport = PdsFaults()
    with httpx.Client(transport=transport) as http:
        provider = BlueskyProvider(ProviderConfig(api_url=pds.url, timeout_seconds=TIMEOUT), http)
        credentials, _ = provider.connect(account.handle, app_password, pds.url)
        yield BlueskyHarness(pds, transport, provider, credentials)
