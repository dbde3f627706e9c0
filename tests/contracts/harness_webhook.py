"""Contract harness for the webhook target against the loopback receiver.

Parts of one delivery are addressed ``<id>#<index>``; a webhook has no threads, so later parts
read back as follow-ups of the first. The receiver dedupes on the idempotency key, and
``lookup`` only confirms parts the engine recorded (``lookup_needs_record``). Webhook secrets
never expire, so ``expired_token`` is not supported.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from digipersona.platforms.base import Credentials, ProviderConfig
from digipersona.platforms.webhook.provider import WebhookProvider
from tests.contracts.protocol import FaultTransport
from tests.fakes.server import serve
from tests.fakes.webhook_receiver import Reply, WebhookReceiver

SECRET = "contract-webhook-secret-0123456789"
TIMEOUT = 3.0  # generous: a loaded CI machine must not time out a normal answer
DELAY = 6.0  # twice the client timeout


@dataclass
class WebhookHarness:
    """See ``tests/contracts/protocol.py``."""

    receiver: WebhookReceiver
    transport: FaultTransport
    provider: WebhookProvider
    credentials: Credentials
    supported_faults: frozenset[str] = frozenset(
        {"server_error", "timeout_before_send", "timeout_after_write", "rate_limit"}
    )
    lookup_needs_record: bool = True

    def read_back(self, external_id: str) -> dict[str, Any] | None:
        """A delivered post (or one of its parts) as the receiver stored it."""
        post_id, _, index = external_id.partition("#")
        for number, body in enumerate(self.receiver.posts.values(), start=1):
            if f"hook-{number}" != post_id:
                continue
            part = int(index or 0)
            if part >= len(body["parts"]):
                return None
            return {
                "text": body["parts"][part],
                "images": [{"alt_text": m["alt_text"]} for m in body["media"]] if part == 0 else [],
                "parent_id": post_id if part else None,
            }
        return None

    def count_posts(self) -> int:
        """Distinct deliveries (the receiver dedupes on the idempotency key)."""
        return len(self.receiver.posts)

    def inject(self, fault: str) -> None:
        """Arm a fault for the next delivery."""
        if fault == "server_error":
            self.receiver.script.append(Reply(status=500, body={"message": "receiver crashed"}))
        elif fault == "timeout_before_send":
            self.transport.fail_next_connect()
        elif fault == "timeout_after_write":
            self.receiver.script.append(Reply(status=201, delay=DELAY, store=True))
        elif fault == "rate_limit":
            self.receiver.script.append(Reply(status=429, headers={"Retry-After": "30"}))
        else:
            raise ValueError(f"unsupported fault {fault}")


@contextmanager
def make_harness() -> Iterator[WebhookHarness]:
    """A fresh receiver on loopback and a webhook connection pointed at it."""
    receiver = WebhookReceiver(SECRET)
    transport = FaultTransport()
    with serve(receiver) as server, httpx.Client(transport=transport) as http:
        url = f"{server.url}/hook"
        credentials = Credentials(access_token=SECRET, account_id=url, extra={"url": url})
        provider = WebhookProvider(ProviderConfig(timeout_seconds=TIMEOUT), http)
        yield WebhookHarness(receiver, transport, provider, credentials)
