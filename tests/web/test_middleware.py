"""The HTTP edge: body limits (chunked too), unhandled errors, security headers, /metrics.

Nothing here depends on the database engine, so these tests run on SQLite only.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import select
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from pydantic import SecretStr

from digipersona.app import UPLOAD_OVERHEAD_BYTES, create_app
from digipersona.config import Settings
from digipersona.kit.logging import configure_logging
from digipersona.kit.metrics import REGISTRY
from digipersona.posts.media import MAX_UPLOAD_BYTES
from digipersona.web.templating import TEMPLATES_DIR
from tests.conftest import PASSWORD, Actor

LIMIT = 2_000_000  # the default DIGIPERSONA_MAX_BODY_BYTES
CHUNK = 64 * 1024


@pytest.fixture
def backend() -> str:
    """Overrides the SQLite/PostgreSQL parametrisation: the edge never reaches the database."""
    return "sqlite"


class Feed:
    """A streamed (chunked) request body that counts how much of it the server pulled."""

    def __init__(self, data: bytes | None = None, *, total: int = 0, chunk: int = CHUNK) -> None:
        self.data = data
        self.total = len(data) if data is not None else total
        self.chunk = chunk
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < self.total:
            size = min(self.chunk, self.total - self.pulled)
            if self.data is not None:
                piece = self.data[self.pulled : self.pulled + size]
            else:
                piece = b"x" * size
            self.pulled += size
            yield piece


def asgi_post(app: Any, url: str, body: Feed, headers: dict[str, str] | None = None) -> Any:
    """POST through httpx's ASGI transport, which hands the app each chunk only on ``receive``."""

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await c.post(url, content=body, headers=headers)

    # A fresh thread has no event loop of its own running, whatever an earlier test left set in
    # this one (in the full suite, asyncio.run here found "a running event loop").
    out: list[Any] = []
    worker = threading.Thread(target=lambda: out.append(asyncio.run(go())))
    worker.start()
    worker.join(120)
    assert out, "the ASGI request did not finish"
    return out[0]


# -- body limits -----------------------------------------------------------------------------
def test_a_chunked_body_over_the_limit_is_refused_unread(app: Any) -> None:
    feed = Feed(total=300 * 1024 * 1024)  # the audit's 300 MB login
    r = asgi_post(app, "/api/v1/auth/login", feed, {"Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert str(LIMIT) in r.json()["detail"]
    assert r.headers["connection"] == "close"
    # The app stopped pulling at the chunk that crossed the limit.
    assert feed.pulled <= LIMIT + CHUNK


def test_a_declared_length_over_the_limit_is_refused_before_reading(app: Any) -> None:
    feed = Feed(total=LIMIT + 1)
    r = asgi_post(app, "/api/v1/auth/login", feed, {"Content-Length": str(LIMIT + 1)})
    assert r.status_code == 413
    assert feed.pulled == 0


def test_a_chunked_body_under_the_limit_goes_through(app: Any, owner: Actor) -> None:
    body = json.dumps({"email": owner.email, "password": PASSWORD}).encode()
    r = asgi_post(
        app, "/api/v1/auth/login", Feed(body, chunk=7), {"Content-Type": "application/json"}
    )
    assert r.status_code == 200, r.text


def test_a_form_page_answers_an_oversized_chunked_post_with_a_page(app: Any) -> None:
    body, content_type = _multipart(b"x" * (LIMIT * 3))  # a file part: no per-field cap first
    feed = Feed(body)
    r = asgi_post(app, "/login", feed, {"Content-Type": content_type})
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("text/html")
    assert str(LIMIT) in r.text
    assert feed.pulled <= LIMIT + CHUNK


def _noise_png(min_bytes: int) -> bytes:
    from PIL import Image

    side = int((min_bytes / 3) ** 0.5) + 1
    buf = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buf, format="PNG")
    return buf.getvalue()


def _multipart(data: bytes, boundary: str = "edge-test-boundary") -> tuple[bytes, str]:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="alt_text"\r\n\r\nNoise\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="noise.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    return (
        head + data + f"\r\n--{boundary}--\r\n".encode(),
        f"multipart/form-data; boundary={boundary}",
    )


@pytest.fixture
def draft_id(owner: Actor) -> str:
    persona = owner.post("/api/v1/personas", json={"name": "Ada"}).json()
    r = owner.post(
        "/api/v1/content",
        json={"persona_id": persona["id"], "body": "With a big image", "platforms": ["webhook"]},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_an_image_upload_has_its_documented_larger_limit(
    app: Any, owner: Actor, draft_id: str
) -> None:
    png = _noise_png(5_000_000)
    assert LIMIT < len(png) < MAX_UPLOAD_BYTES
    url = f"/api/v1/content/{draft_id}/media"
    # With a Content-Length (what browsers and most clients send) ...
    r = owner.post(url, files={"file": ("noise.png", png, "image/png")})
    assert r.status_code == 201, r.text
    # ... and chunked, counted by the same middleware.
    body, content_type = _multipart(png)
    r = asgi_post(app, url, Feed(body), {**owner.headers, "Content-Type": content_type})
    assert r.status_code == 201, r.text
    assert len(r.json()["media"]) == 2


def test_an_image_upload_over_its_limit_is_cut_off(app: Any, owner: Actor, draft_id: str) -> None:
    limit = MAX_UPLOAD_BYTES + UPLOAD_OVERHEAD_BYTES
    body, content_type = _multipart(b"x" * (limit + 4 * CHUNK))
    feed = Feed(body)
    url = f"/api/v1/content/{draft_id}/media"
    r = asgi_post(app, url, feed, {**owner.headers, "Content-Type": content_type})
    assert r.status_code == 413, r.text
    assert feed.pulled <= limit + CHUNK
    # The larger limit is the upload route's alone: the route next to it keeps the general one.
    other = asgi_post(app, f"/api/v1/content/{draft_id}/submit", Feed(total=LIMIT + 2 * CHUNK))
    assert other.status_code == 413


# -- a real server ---------------------------------------------------------------------------
class Counting:
    """ASGI wrapper between uvicorn and the app: how many body bytes the app received."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.received = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def counted() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


def _crash() -> None:
    raise RuntimeError("boom: a bug in a route")


@pytest.fixture
def crashing_app(app: Any) -> Any:
    """The app plus two routes that raise (test-only): one API, one page."""
    app.add_api_route("/api/v1/test-crash", _crash, methods=["GET"])
    app.add_api_route("/test-crash", _crash, methods=["GET"])
    return app


@pytest.fixture
def server(crashing_app: Any) -> Iterator[tuple[str, int, Counting]]:
    counting = Counting(crashing_app)
    config = uvicorn.Config(counting, host="127.0.0.1", port=0, log_config=None, lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not (srv.started and srv.servers):
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert thread.is_alive(), "uvicorn stopped"
        time.sleep(0.01)
    port = srv.servers[0].sockets[0].getsockname()[1]
    yield "127.0.0.1", port, counting
    srv.should_exit = True
    thread.join(10)


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length, read off the socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        assert piece, f"connection closed mid-response: {data!r}"
        data += piece
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        piece = sock.recv(65536)
        assert piece, "connection closed mid-body"
        rest += piece
    return int(lines[0].split()[1]), headers, rest[:length]


def test_uvicorn_stops_reading_a_chunked_body_at_the_limit(
    server: tuple[str, int, Counting],
) -> None:
    host, port, counting = server
    total = 100 * 1024 * 1024
    sent = 0
    chunk = b"x" * CHUNK
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        try:
            while sent < total:
                if select.select([sock], [], [], 0)[0]:
                    break  # the server answered: stop sending
                sock.sendall(frame)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # it answered and closed while we were still sending
        status, headers, body = _read_response(sock)
    assert status == 413, body
    assert headers["connection"] == "close"
    assert json.loads(body)["status"] == 413
    # uvicorn hands over what it buffered (up to its 64 KiB high-water mark plus one socket read
    # of at most 256 KiB): the app took that one message past the limit and nothing after it.
    assert counting.received <= LIMIT + 64 * 1024 + 256 * 1024
    assert sent < total


def test_an_unhandled_error_keeps_the_connection_alive(server: tuple[str, int, Counting]) -> None:
    host, port, _ = server
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b"GET /api/v1/test-crash HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        status, headers, body = _read_response(sock)
        assert status == 500
        assert headers["content-type"].startswith("application/problem+json")
        assert headers["x-request-id"]
        # Same connection, next request.
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        status, _, body = _read_response(sock)
        assert status == 200, body


# -- unhandled errors ------------------------------------------------------------------------
@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("INFO", "json")
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "_digipersona", False))
    handler.stream = stream  # type: ignore[attr-defined]
    yield stream
    configure_logging("WARNING", "text")


def _count(route: str, status: str) -> float:
    labels = {"method": "GET", "route": route, "status": status}
    return REGISTRY.get_sample_value("digipersona_http_requests_total", labels) or 0.0


def test_an_unhandled_error_is_a_logged_and_counted_500(
    crashing_app: Any, json_log: io.StringIO
) -> None:
    before = _count("/api/v1/test-crash", "500")
    with TestClient(crashing_app) as client:
        r = client.get("/api/v1/test-crash", headers={"X-Request-ID": "crash-rid-1"})
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 500 and "logged" in r.json()["detail"]
    assert r.headers["x-request-id"] == "crash-rid-1"
    assert _count("/api/v1/test-crash", "500") == before + 1

    records = [json.loads(line) for line in json_log.getvalue().splitlines()]
    [error] = [rec for rec in records if "unhandled error" in rec["message"]]
    assert error["request_id"] == "crash-rid-1" and error["level"] == "ERROR"
    assert "Traceback" in error["exc"] and "boom: a bug in a route" in error["exc"]
    [access] = [rec for rec in records if rec.get("path") == "/api/v1/test-crash"]
    assert access["status"] == 500 and access["request_id"] == "crash-rid-1"


def test_an_unhandled_error_on_a_page_is_an_error_page(crashing_app: Any) -> None:
    with TestClient(crashing_app) as client:
        r = client.get("/test-crash")
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("text/html")
    assert "Something went wrong on our side" in r.text
    assert "Content-Security-Policy" in r.headers


# -- headers ---------------------------------------------------------------------------------
def test_pages_get_a_strict_content_security_policy(client: TestClient) -> None:
    r = client.get("/login")
    csp = r.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in r.headers  # the base URL is http
    # Not on JSON or static files, and static files stay cacheable.
    assert "content-security-policy" not in client.get("/healthz").headers
    css = client.get("/static/app.css")
    assert css.status_code == 200
    assert "content-security-policy" not in css.headers
    assert css.headers.get("cache-control") != "no-store"


def test_answers_with_tokens_are_not_stored(client: TestClient, owner: Actor) -> None:
    r = client.post("/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD})
    assert r.status_code == 200 and r.json()["refresh_token"]
    assert r.headers["cache-control"] == "no-store"
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": r.json()["refresh_token"]})
    assert r.headers["cache-control"] == "no-store"
    r = owner.post("/api/v1/tokens", json={"name": "ci", "scopes": ["drafts"]})
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"


def test_hsts_when_the_base_url_is_https(settings: Settings) -> None:
    settings.base_url = "https://dp.example.org"
    with TestClient(create_app(settings), base_url="https://dp.example.org") as client:
        r = client.get("/healthz")
    assert r.headers["strict-transport-security"] == "max-age=31536000"


def test_no_template_has_inline_script() -> None:
    """The CSP refuses inline script: markup that needs it would silently stop working."""
    offenders = []
    for path in sorted(Path(TEMPLATES_DIR).rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern in (r"<script(?![^>]*\ssrc=)[^>]*>", r"\son[a-z]+\s*=", r"javascript:"):
            offenders += [f"{path.name}: {m.group(0)}" for m in re.finditer(pattern, text, re.I)]
    assert offenders == []


def test_api_docs_load_nothing_from_elsewhere(client: TestClient) -> None:
    r = client.get("/api/docs")
    assert r.status_code == 200
    assert "script-src 'self';" in r.headers["content-security-policy"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert sources and all(s.startswith("/") for s in sources), sources
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200, source
        assert asset.headers.get("cache-control") != "no-store", source  # files, not answers


# -- /metrics --------------------------------------------------------------------------------
def test_metrics_can_require_a_bearer_token(settings: Settings) -> None:
    settings.metrics_token = SecretStr("metrics-token-0123456789")
    with TestClient(create_app(settings)) as client:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.headers["content-type"].startswith("application/problem+json")
        r = client.get("/metrics", headers={"Authorization": "Bearer metrics-token-0123456789"})
        assert r.status_code == 200
        assert "digipersona_http_requests_total" in r.text


def test_the_metrics_token_can_come_from_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "metrics_token"
    secret.write_text("from-a-file-0123456789\n", encoding="utf-8")
    monkeypatch.setenv("DIGIPERSONA_METRICS_TOKEN_FILE", str(secret))
    settings = Settings(data_dir=tmp_path)
    assert settings.metrics_token is not None
    assert settings.metrics_token.get_secret_value() == "from-a-file-0123456789"
