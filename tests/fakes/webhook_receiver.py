"""A webhook receiver for tests: checks the signature itself, dedupes on the idempotency key.

It implements the receiver side of the contract in ``platforms/webhook/provider.py`` without
using that module's helpers, so a signing bug cannot hide behind a matching verification bug.

    receiver = WebhookReceiver(secret="s3cret")
    with serve(receiver) as server:
        ...  # POST to server.url + "/hook"
    receiver.deliveries   # every accepted delivery, in order (duplicates included)
    receiver.posts        # idempotency key -> the first accepted body

Faults: ``receiver.script.append(Reply(status=503))`` answers the next request with that reply
(after verifying nothing); ``Reply(status=200, delay=2.0)`` processes the request, then waits
(a receiver slower than the sender's timeout: the post is stored, the answer is late).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    408: "Request Timeout",
    410: "Gone",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass
class Reply:
    """A scripted answer for one request."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    store: bool = False  # process (store) the delivery before answering


@dataclass
class Delivery:
    """One request the receiver accepted (signature valid)."""

    headers: dict[str, str]
    body: dict[str, Any]
    raw: bytes


class WebhookReceiver:
    """A WSGI app; serve it with ``tests.fakes.server.serve``."""

    def __init__(
        self, secret: str, *, tolerance_seconds: int = 300, public_url: str | None = None
    ) -> None:
        self.secret = secret
        self.tolerance_seconds = tolerance_seconds
        self.public_url = public_url or "https://hooks.example.test/posts"
        self.script: list[Reply] = []
        self.deliveries: list[Delivery] = []
        self.posts: dict[str, dict[str, Any]] = {}
        self.rejected: list[str] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def shutdown(self) -> None:
        """Wake any request sleeping in a scripted delay (called by ``serve`` on exit)."""
        self._stopping.set()

    def _verify(self, headers: dict[str, str], raw: bytes) -> str | None:
        timestamp = headers.get("x-digipersona-timestamp", "")
        signature = headers.get("x-digipersona-signature", "")
        if not timestamp.isdigit():
            return "missing or malformed X-Digipersona-Timestamp"
        if abs(time.time() - int(timestamp)) > self.tolerance_seconds:
            return "stale timestamp"
        expected = hmac.new(
            self.secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(f"sha256={expected}", signature):
            return "bad signature"
        if not headers.get("x-digipersona-idempotency-key"):
            return "missing X-Digipersona-Idempotency-Key"
        return None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        with self._lock:
            reply = self.script.pop(0) if self.script else None
        if reply is not None and not reply.store:
            return self._answer(start_response, reply.status, reply.body, reply.headers)

        problem = self._verify(headers, raw)
        if problem is not None:
            with self._lock:
                self.rejected.append(problem)
            return self._answer(start_response, 401, {"error": "unauthorized", "message": problem})
        body = json.loads(raw)
        key = headers["x-digipersona-idempotency-key"]
        with self._lock:
            self.deliveries.append(Delivery(headers, body, raw))
            first = key not in self.posts
            if first:
                self.posts[key] = body
            number = list(self.posts).index(key) + 1
        if reply is not None:
            self._stopping.wait(reply.delay)
            return self._answer(start_response, reply.status, reply.body, reply.headers)
        answer = {
            "id": f"hook-{number}",
            "url": f"{self.public_url}/{number}",
            "duplicate": not first,
        }
        return self._answer(start_response, 201 if first else 200, answer)

    @staticmethod
    def _answer(
        start_response: StartResponse,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
    ) -> list[bytes]:
        if isinstance(body, bytes | str):
            data = body.encode() if isinstance(body, str) else body
            content_type = "text/plain; charset=utf-8"
        elif body is None:
            data, content_type = b"", "text/plain"
        else:
            data, content_type = json.dumps(body).encode(), "application/json"
        response_headers = [("Content-Type", content_type), ("Content-Length", str(len(data)))]
        response_headers.extend((headers or {}).items())
        start_response(f"{status} {REASONS.get(status, 'Status')}", response_headers)
        return [data]
