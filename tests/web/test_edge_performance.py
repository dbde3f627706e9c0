"""The edge's own cost: no session work where none is used, compressed pages and answers,
fingerprinted static files cached for a year."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner

from digipersona.web.static_files import STATIC_DIR, static_url
from tests.conftest import Actor
from tests.web.test_shell import csrf_from, web_login


@pytest.fixture
def backend() -> str:
    """The edge never reaches the database: SQLite only."""
    return "sqlite"


def test_probes_scrapes_and_files_skip_the_session(
    client: TestClient, owner: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert web_login(client, owner.email).status_code == 303
    # A logged-in browser sends its cookie everywhere; verifying it is work only pages need.
    verified: list[bytes] = []
    unsign = TimestampSigner.unsign

    def counting(self: TimestampSigner, value: Any, *args: Any, **kwargs: Any) -> Any:
        verified.append(value)
        return unsign(self, value, *args, **kwargs)

    monkeypatch.setattr(TimestampSigner, "unsign", counting)
    for path in (
        "/healthz",
        "/readyz",
        "/metrics",
        "/static/app.css",
        "/api/docs/assets/swagger-ui.css",
    ):
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
    assert verified == []
    assert client.get("/dashboard").status_code == 200
    assert len(verified) == 1


# -- compression -----------------------------------------------------------------------------
GZIP = {"accept-encoding": "gzip"}


def test_pages_and_json_answers_are_compressed(client: TestClient, owner: Actor) -> None:
    assert web_login(client, owner.email).status_code == 303
    page = client.get("/dashboard", headers=GZIP)
    assert page.status_code == 200
    assert page.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in page.headers["vary"].lower()
    assert "</html>" in page.text  # decoded by the client as a browser would
    api = client.get("/openapi.json", headers=GZIP)
    assert api.headers["content-encoding"] == "gzip"
    assert api.json()["openapi"]
    # Not asked for: not compressed.
    plain = client.get("/dashboard", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers


def test_tiny_bodies_images_and_the_event_stream_are_not_compressed(
    client: TestClient, owner: Actor
) -> None:
    assert web_login(client, owner.email).status_code == 303
    tiny = client.get("/healthz", headers=GZIP)
    assert len(tiny.content) < 1024 and "content-encoding" not in tiny.headers
    image = client.get(static_url("icon-192.png"), headers=GZIP)
    assert image.status_code == 200 and "content-encoding" not in image.headers
    # The live updates stream: every event must leave at once, not wait in a gzip buffer.
    with client.stream("GET", "/events", headers=GZIP) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in stream.headers
        first = next(stream.iter_lines())
        assert first == "retry: 3000"


# -- static files ----------------------------------------------------------------------------
def test_pages_link_static_files_by_content_hash(client: TestClient, owner: Actor) -> None:
    assert web_login(client, owner.email).status_code == 303
    linked: set[str] = set()
    for path in ("/dashboard", "/approvals", "/calendar", "/settings", "/login", "/api/docs"):
        html = client.get(path).text
        urls = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
        assert urls, path
        linked.update(urls)
    for url in linked:
        name, _, query = url.removeprefix("/static/").partition("?")
        digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:16]
        assert query == f"v={digest}", url


def test_a_fingerprinted_file_is_cached_for_a_year(client: TestClient) -> None:
    fresh = client.get(static_url("app.css"))
    assert fresh.status_code == 200
    assert fresh.headers["cache-control"] == "public, max-age=31536000, immutable"
    # Without the current hash (an old page, a typed URL) the browser must revalidate.
    for url in ("/static/app.css", "/static/app.css?v=0123456789abcdef"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-cache"
    etag = fresh.headers["etag"]
    again = client.get(static_url("app.css"), headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_each_page_carries_its_own_mask_of_the_csrf_token(client: TestClient, owner: Actor) -> None:
    """A compressed page must not let its size reveal the token (BREACH): no two pages carry
    the same bytes, and every one of them is accepted."""
    assert web_login(client, owner.email).status_code == 303
    tokens = [csrf_from(client.get("/settings").text) for _ in range(3)]
    assert len(set(tokens)) == 3
    for token in tokens:
        response = client.post(
            "/settings/workspace",
            data={"name": "Acme", "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
    # A masked token of another session, or a tampered one, is refused.
    tampered = tokens[0][:-2] + ("AA" if not tokens[0].endswith("AA") else "BB")
    for forged in (tampered, "forged", "A" * 88):
        response = client.post("/settings/workspace", data={"name": "X", "csrf_token": forged})
        assert response.status_code == 403
