"""A loopback "platform" for cross-process tests and benchmarks.

A real HTTP server (another thread or process) stores posts by idempotency key, so duplicates
are counted no matter which worker process sent them. ``CountingProvider`` is a provider plugin
(``DIGIPERSONA_PROVIDER_PLUGINS=tests.fakes.counting_platform:CountingProvider``) that talks to
it; its base URL comes from ``DIGIPERSONA_COUNTING_URL``. Latency is configurable, and the
"hold" switch makes the server accept a post and then stall the response, to kill a worker
after the platform accepted the write.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from digipersona.platforms import errors
from digipersona.platforms.base import (
    Credentials,
    Profile,
    Provider,
    PublishRequest,
    PublishResult,
    TokenSet,
)


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.writes: Counter[str] = Counter()
        self.first_seen: dict[str, float] = {}
        self.latency = 0.0
        self.hold = False
        self.hold_event = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    state: ClassVar[_State]
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        return None

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        st = self.state
        if self.path == "/stats":
            with st.lock:
                self._reply(
                    200,
                    {
                        "posts": len(st.writes),
                        "duplicates": sum(c - 1 for c in st.writes.values() if c > 1),
                        "first_seen": dict(st.first_seen),
                    },
                )
            return
        key = self.path.rsplit("/", 1)[-1]
        with st.lock:
            found = key in st.writes
        self._reply(200 if found else 404, {"id": key} if found else {"error": "not found"})

    def _client_gone(self) -> bool:
        import select
        import socket

        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def do_POST(self) -> None:
        st = self.state
        length = int(self.headers.get("content-length", "0"))
        payload = json.loads(self.rfile.read(length) or b"{}")
        if self.path == "/control":
            st.latency = float(payload.get("latency", st.latency))
            st.hold = bool(payload.get("hold", st.hold))
            if payload.get("reset"):
                with st.lock:
                    st.writes.clear()
                    st.first_seen.clear()
            self._reply(200, {"ok": True})
            return
        key = str(payload["key"])
        if st.latency:
            time.sleep(st.latency)
            if self._client_gone():
                return  # the sender died before we applied the write: nothing happened
        with st.lock:
            st.writes[key] += 1
            st.first_seen.setdefault(key, time.time())
        if st.hold:
            st.hold_event.set()
            time.sleep(3600)  # the write is applied; the answer never comes
        self._reply(201, {"id": key, "url": f"https://counting.example/{key}"})


def serve(port: int = 0) -> tuple[ThreadingHTTPServer, _State]:
    """Start the platform on 127.0.0.1 in a daemon thread."""
    state = _State()
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, state


class _LeanHTTP:
    """One keep-alive ``http.client`` connection per thread to the counting platform.

    The benchmark measures the engine (claim, prepare, dispatch, record), so its fake platform
    must cost little on both ends: httpx spends about 0.4 ms of CPU per request in Python, as
    much as the whole engine spends per publication, and with one GIL that cost would be
    measured instead of the engine's. ``CountingHttpxProvider`` keeps the httpx path so the
    benchmark can show both. Failures map like ``platforms/http.py``: nothing sent ->
    ``Transient``, sent but no answer -> ``UnknownOutcome``.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def _connection(self, base: str) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is not None and conn.sock is not None and _peer_closed(conn.sock):
            conn.close()  # the server closed the idle keep-alive connection
            conn = None
        if conn is None:
            url = urlsplit(base)
            conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
            self._local.conn = conn
        return conn

    def request(self, base: str, method: str, path: str, body: bytes | None) -> tuple[int, Any]:
        conn = self._connection(base)
        headers = {"content-type": "application/json"} if body is not None else {}
        try:
            conn.request(method, path, body=body, headers=headers)
        except OSError as exc:  # refused, or the request could not be written
            conn.close()
            raise errors.Transient(f"platform unreachable: {exc}") from exc
        try:
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise errors.UnknownOutcome(f"no answer: {type(exc).__name__}") from exc
        return response.status, json.loads(data or b"null")


def _peer_closed(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)  # an idle connection is readable only when it was closed


class CountingProvider(Provider):
    name: ClassVar[str] = "counting"
    display_name: ClassVar[str] = "Counting platform"
    auth_kind = "webhook"
    max_length: ClassVar[int] = 10_000
    length_unit = "chars"
    max_images: ClassVar[int] = 4
    max_image_bytes: ClassVar[int] = 5_000_000
    supports_threads: ClassVar[bool] = False
    link_handling = "payload"
    _lean: ClassVar[_LeanHTTP] = _LeanHTTP()

    @property
    def base(self) -> str:
        return os.environ.get("DIGIPERSONA_COUNTING_URL", "http://127.0.0.1:9")

    def refresh(self, credentials: Credentials) -> TokenSet:
        return TokenSet(access_token=credentials.access_token)

    def profile(self, credentials: Credentials) -> Profile:
        return Profile(account_id="counting", handle="counting")

    def _send(self, method: str, path: str, payload: dict[str, Any] | None) -> tuple[int, Any]:
        body = json.dumps(payload).encode() if payload is not None else None
        return self._lean.request(self.base, method, path, body)

    def publish(self, credentials: Credentials, request: PublishRequest) -> PublishResult:
        status, data = self._send(
            "POST", "/posts", {"key": request.idempotency_key, "text": request.parts[0]}
        )
        if status >= 500:
            raise errors.UnknownOutcome(f"{status} from the platform")
        return PublishResult(external_id=data["id"], url=data["url"])

    def lookup(self, credentials: Credentials, request: PublishRequest) -> PublishResult | None:
        status, _data = self._send("GET", f"/posts/{request.idempotency_key}", None)
        if status == 404:
            return None
        return PublishResult(
            external_id=request.idempotency_key,
            url=f"https://counting.example/{request.idempotency_key}",
        )

    def delete(self, credentials: Credentials, external_id: str) -> None:
        return None


class CountingHttpxProvider(CountingProvider):
    """The same provider sending through the shared ``httpx.Client``, as the real platform
    clients do (``DIGIPERSONA_PROVIDER_PLUGINS=tests.fakes.counting_platform:CountingHttpxProvider``)."""

    def _send(self, method: str, path: str, payload: dict[str, Any] | None) -> tuple[int, Any]:
        try:
            r = self.http.request(method, f"{self.base}{path}", json=payload, timeout=30)
        except httpx.ConnectError as exc:
            raise errors.Transient(f"platform unreachable: {exc}") from exc
        except httpx.HTTPError as exc:
            raise errors.UnknownOutcome(f"no answer: {type(exc).__name__}") from exc
        return r.status_code, r.json()


def stats(base_url: str) -> dict[str, Any]:
    result: dict[str, Any] = httpx.get(f"{base_url}/stats", timeout=10).json()
    return result


def asgi_app() -> Any:
    """The same platform as an ASGI app, for benchmarks (uvicorn handles thousands of req/s,
    so the fake is not the bottleneck being measured)."""
    import asyncio

    writes: Counter[str] = Counter()
    first_seen: dict[str, float] = {}
    settings = {"latency": 0.0}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path, method = scope["path"], scope["method"]
        status, payload = 200, {}
        if path == "/stats":
            payload = {
                "posts": len(writes),
                "duplicates": sum(c - 1 for c in writes.values() if c > 1),
            }
        elif path == "/control":
            data = json.loads(body or b"{}")
            settings["latency"] = float(data.get("latency", settings["latency"]))
            if data.get("reset"):
                writes.clear()
                first_seen.clear()
            payload = {"ok": True}
        elif path == "/posts" and method == "POST":
            key = str(json.loads(body)["key"])
            if settings["latency"]:
                await asyncio.sleep(settings["latency"])
            writes[key] += 1
            first_seen.setdefault(key, time.time())
            status, payload = 201, {"id": key, "url": f"https://counting.example/{key}"}
        else:
            key = path.rsplit("/", 1)[-1]
            status = 200 if key in writes else 404
            payload = {"id": key} if status == 200 else {"error": "not found"}
        data = json.dumps(payload).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                # With a length the answer is not chunked, like a real platform's JSON
                # (chunked framing cost the engine's client a parse step per answer).
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(data)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})

    return app


if __name__ == "__main__":  # benchmarks: python -m tests.fakes.counting_platform
    import socket

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    print(f"http://127.0.0.1:{port}", flush=True)
    uvicorn.run(asgi_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)
