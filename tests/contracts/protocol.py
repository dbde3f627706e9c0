"""The harness protocol of the provider contract suite (``test_contract.py``).

Every provider passes the same suite. To add one, write ``tests/contracts/harness_<name>.py``
exposing ``make_harness()``: a context manager that starts whatever the provider talks to (a
loopback fake, a real server such as the Bluesky PDS) and yields an object with the attributes
and methods of ``Harness`` below. The suite finds harness modules by that file name pattern.
A harness that cannot run here (its peer is not installed) calls ``pytest.skip(reason)`` inside
``make_harness``.

What the suite checks, for every harness:

- capabilities are declared on the provider class with sane values, and the registry maps the
  provider's ``name`` to its class;
- publish text, then ``read_back`` shows the same text;
- publish a thread: parts come back in order, each a reply to the previous part (providers
  with ``supports_threads``) or a follow-up comment on the first part (the others);
- publish with one image: ``read_back`` shows one image with its alt text;
- ``lookup`` after a successful publish finds it; ``lookup`` for a never-sent post returns None;
- each fault in ``FAULTS`` that the harness supports maps to its typed error, and after an
  ambiguous one the engine's reconcile step (``lookup``, then ``publish`` only if ``lookup``
  returned None) leaves exactly one post.

``read_back(external_id)`` returns ``None`` for an unknown id, else a dict with at least:
``text`` (the text a reader sees), ``images`` (a list of ``{"alt_text": str}``) and
``parent_id`` (the external id this item replies to or comments on, else ``None``).
``count_posts()`` is the number of top-level posts (not replies or comments) on the account.

``inject(fault)`` arms a fault for the next post-creating request only:

- ``server_error``: the platform answers 5xx without applying the write;
- ``timeout_before_send``: the connection cannot be made (nothing reaches the server);
- ``timeout_after_write``: the platform applies the write and answers too late for the client;
- ``rate_limit``: the platform's rate-limit answer;
- ``expired_token``: the connection's access token is expired from now on.

Read-back (optional): a harness whose provider ``supports_interactions`` may offer
``seed_interaction(on_external_id, text) -> external_id`` (someone else answers one of our
posts at the platform) and ``read_credentials()`` (credentials allowed to read them). The suite
then checks that ``fetch_interactions`` returns the new item after the previous cursor, oldest
first, with timezone-aware times and a ``reply_target``, and never loses it across cursors.

``lookup_needs_record`` is True when the platform cannot find a post by its content or key and
``lookup`` can only confirm parts the engine recorded in ``already_published`` (LinkedIn:
personal profiles cannot read their posts; its retry is made safe by ``DUPLICATE_POST``).
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from digipersona.platforms.base import Credentials, Provider

FAULTS = (
    "server_error",
    "timeout_before_send",
    "timeout_after_write",
    "rate_limit",
    "expired_token",
)


class Harness(Protocol):
    """What ``make_harness()`` yields."""

    provider: Provider
    credentials: Credentials
    supported_faults: frozenset[str]
    lookup_needs_record: bool

    def read_back(self, external_id: str) -> dict[str, Any] | None:
        """The published item as the platform holds it, or None."""
        ...

    def count_posts(self) -> int:
        """Top-level posts on the account."""
        ...

    def inject(self, fault: str) -> None:
        """Arm one of ``FAULTS`` for the next post-creating request."""
        ...


class FaultTransport(httpx.BaseTransport):
    """Wraps a real transport; can make the next connection attempt time out.

    A connect timeout is the one failure that provably sends nothing, and loopback connects
    never time out on their own, so harnesses inject it at the transport: ``httpx`` raises the
    same ``ConnectTimeout`` it raises for a real unreachable host.
    """

    def __init__(self, inner: httpx.BaseTransport | None = None) -> None:
        self.inner = inner or httpx.HTTPTransport()
        self.connect_failures = 0

    def fail_next_connect(self) -> None:
        """The next request fails with ``httpx.ConnectTimeout`` before anything is sent."""
        self.connect_failures += 1

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send, unless a connect failure is armed."""
        if self.connect_failures:
            self.connect_failures -= 1
            raise httpx.ConnectTimeout("injected: connect timed out", request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        """Close the wrapped transport."""
        self.inner.close()
