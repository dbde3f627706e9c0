"""From a fresh install: connect each platform through the API (against the fakes and the real
PDS, by pointing the base URL settings at them), publish through the engine, see the links."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from digipersona.app import create_app
from digipersona.kit.time import utcnow
from digipersona.worker.embedded import Dispatcher
from digipersona.worker.runtime import build_runtime
from tests.conftest import make_settings, register_actor
from tests.fakes.linkedin import FakeLinkedIn
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.fakes.x import FakeX


@pytest.fixture
def linkedin_fake() -> Iterator[FakeLinkedIn]:
    with FakeLinkedIn().running() as fake:
        yield fake


@pytest.fixture
def x_fake() -> Iterator[FakeX]:
    with FakeX().running() as fake:
        yield fake


@pytest.fixture
def platform_app(
    tmp_path: Any, database_url: str, linkedin_fake: FakeLinkedIn, x_fake: FakeX
) -> Iterator[tuple[Any, TestClient]]:
    settings = make_settings(
        tmp_path,
        database_url,
        linkedin_client_id=linkedin_fake.client_id,
        linkedin_client_secret=linkedin_fake.client_secret,
        linkedin_oauth_url=f"{linkedin_fake.url}/oauth/v2",
        linkedin_api_url=linkedin_fake.url,
        linkedin_version="202609",
        x_client_id=x_fake.client_id,
        x_client_secret=getattr(x_fake, "client_secret", None),
        x_authorize_url=f"{x_fake.url}/i/oauth2/authorize",
        x_api_url=x_fake.url,
        platform_timeout_seconds=5,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        yield app, client


def oauth_connect(owner: Any, client: TestClient, platform: str, persona_id: str) -> Any:
    r = owner.post(f"/api/v1/integrations/{platform}/connect", json={"persona_id": persona_id})
    assert r.status_code == 200, r.text
    consent = httpx.get(r.json()["authorization_url"], follow_redirects=False)
    assert consent.status_code == 302, consent.text
    callback = urlsplit(consent.headers["location"])
    assert callback.path == f"/api/v1/integrations/{platform}/callback"
    return client.get(f"{callback.path}?{callback.query}", follow_redirects=False), callback


def publish_now(
    app: Any, owner: Any, persona_id: str, body: str, platforms: list[str]
) -> list[dict[str, Any]]:
    post = owner.post(
        "/api/v1/content", json={"persona_id": persona_id, "body": body, "platforms": platforms}
    ).json()
    assert owner.post(f"/api/v1/content/{post['id']}/submit").status_code == 200, post
    assert owner.post(f"/api/v1/content/{post['id']}/approve").status_code == 200
    at = (utcnow() + timedelta(seconds=1)).isoformat()
    r = owner.post(f"/api/v1/content/{post['id']}/schedule", json={"at": at})
    assert r.status_code == 200, r.text
    runtime = build_runtime(app.state.settings, factory=app.state.sessionmaker)
    dispatcher = Dispatcher(runtime.engine, threads=2, batch=10, poll_seconds=0.05)
    import time

    time.sleep(1.1)
    dispatcher.drain(timeout=30)
    dispatcher.stop()
    runtime.http.close()
    return list(owner.get(f"/api/v1/content/{post['id']}/schedule").json()["publications"])


def test_linkedin_connect_publish_and_bad_callbacks(
    platform_app: Any, linkedin_fake: FakeLinkedIn
) -> None:
    app, client = platform_app
    owner = register_actor(client, "li")
    persona = owner.post(
        "/api/v1/personas", json={"name": "Ada", "timezone": "Europe/London"}
    ).json()
    response, callback = oauth_connect(owner, client, "linkedin", persona["id"])
    assert response.status_code == 303
    assert response.headers["location"].startswith("/connections?connected=")
    [conn] = owner.get("/api/v1/connections").json()
    assert conn["platform"] == "linkedin"
    assert conn["account_id"] == "urn:li:person:782bbtaQ"
    assert conn["state"] == "active"
    assert conn["expires_at"]
    # The same state again is refused, and nothing more is stored.
    again = client.get(f"{callback.path}?{callback.query}", follow_redirects=False)
    assert again.status_code == 400
    assert "already used" in again.text
    unknown = client.get("/api/v1/integrations/linkedin/callback?state=forged&code=x")
    assert unknown.status_code == 400
    # Denied consent: a clear message on the Connections page.
    r = owner.post("/api/v1/integrations/linkedin/connect", json={"persona_id": persona["id"]})
    state = parse_qs(urlsplit(r.json()["authorization_url"]).query)["state"][0]
    denied = client.get(
        f"/api/v1/integrations/linkedin/callback?state={state}&error=user_cancelled_authorize&error_description=The+user+cancelled",
        follow_redirects=False,
    )
    assert denied.status_code == 303
    assert (
        "not+allowed" in denied.headers["location"] or "not%20allowed" in denied.headers["location"]
    )
    assert len(owner.get("/api/v1/connections").json()) == 1

    [pub] = publish_now(
        app, owner, persona["id"], "Hello (LinkedIn) #devops with a_b", ["linkedin"]
    )
    assert pub["state"] == "published", (pub["last_error"], pub["errors"])
    assert pub["external_url"].startswith("https://www.linkedin.com/feed/update/urn:li:share:")
    [live] = linkedin_fake.live_posts()
    assert "Hello \\(LinkedIn\\) #devops with a\\_b" in live["commentary"]


def test_x_connect_with_pkce_and_publish(platform_app: Any, x_fake: FakeX) -> None:
    app, client = platform_app
    owner = register_actor(client, "xx")
    persona = owner.post("/api/v1/personas", json={"name": "Xena"}).json()
    response, _ = oauth_connect(owner, client, "x", persona["id"])
    assert response.status_code == 303, response.text
    [conn] = owner.get("/api/v1/connections").json()
    assert conn["platform"] == "x"
    assert "offline.access" in conn["scopes"]
    [pub] = publish_now(
        app, owner, persona["id"], " ".join(f"Point {i} about shipping." for i in range(40)), ["x"]
    )
    assert pub["state"] == "published", (pub["last_error"], pub["errors"])
    assert "/status/" in pub["external_url"]


def test_platform_not_configured_says_how(client: TestClient, owner: Any) -> None:
    persona = owner.post("/api/v1/personas", json={"name": "NC"}).json()
    r = owner.post("/api/v1/integrations/x/connect", json={"persona_id": persona["id"]})
    assert r.status_code == 400
    assert "DIGIPERSONA_X_CLIENT_ID" in r.json()["detail"]
    statuses = {p["platform"]: p for p in owner.get("/api/v1/integrations").json()}
    assert statuses["linkedin"]["configured"] is False
    assert statuses["bluesky"]["configured"] is True


def test_webhook_connect_and_signed_delivery(tmp_path: Any, database_url: str) -> None:
    secret = "receiver-shared-secret-0123456789"
    receiver = WebhookReceiver(secret)
    from tests.fakes.server import serve

    with serve(receiver) as server:
        app = create_app(make_settings(tmp_path, database_url))
        with TestClient(app) as client:
            owner = register_actor(client, "wh")
            persona = owner.post("/api/v1/personas", json={"name": "Hook"}).json()
            r = owner.post(
                "/api/v1/integrations/webhook/connect",
                json={"persona_id": persona["id"], "url": f"{server.url}/hook", "secret": secret},
            )
            assert r.status_code == 201
            [pub] = publish_now(app, owner, persona["id"], "Via webhook", ["webhook"])
            assert pub["state"] == "published", (pub["last_error"], pub["errors"])
            assert len(receiver.deliveries) == 1  # only signature-verified deliveries count
            assert receiver.deliveries[0].body["body"] == "Via webhook"
            assert not receiver.rejected


@pytest.mark.pds
def test_bluesky_connect_and_publish_against_the_real_pds(
    pds: Any, tmp_path: Any, database_url: str
) -> None:
    account = pds.create_account("e2e")
    app_password = pds.create_app_password(account)
    app = create_app(make_settings(tmp_path, database_url, bluesky_service_url=pds.url))
    with TestClient(app) as client:
        owner = register_actor(client, "bsky")
        persona = owner.post("/api/v1/personas", json={"name": "Sky"}).json()
        bad = owner.post(
            "/api/v1/integrations/bluesky/connect",
            json={
                "persona_id": persona["id"],
                "handle": account.handle,
                "app_password": account.password,
            },
        )
        assert bad.status_code in (400, 422)
        assert "app password" in bad.json()["detail"].lower()
        r = owner.post(
            "/api/v1/integrations/bluesky/connect",
            json={
                "persona_id": persona["id"],
                "handle": account.handle,
                "app_password": app_password,
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["account_id"] == account.did
        [pub] = publish_now(
            app,
            owner,
            persona["id"],
            "Hello from digipersona https://example.com #e2e",
            ["bluesky"],
        )
        assert pub["state"] == "published", (pub["last_error"], pub["errors"])
        assert pub["external_url"].startswith("https://bsky.app/profile/")
        records = pds.list_records(account.did)
        assert len(records) == 1
        assert records[0]["value"]["text"].startswith("Hello from digipersona")
        assert uuid.UUID(pub["id"])


def test_webhook_refused_at_send_time_fails_at_once_without_retry(
    tmp_path: Any, database_url: str
) -> None:
    receiver = WebhookReceiver("receiver-shared-secret-0123456789")
    from tests.fakes.server import serve

    with serve(receiver) as server:
        app = create_app(make_settings(tmp_path, database_url))
        with TestClient(app) as client:
            owner = register_actor(client, "wh")
            persona = owner.post("/api/v1/personas", json={"name": "Hook"}).json()
            r = owner.post(
                "/api/v1/integrations/webhook/connect",
                json={"persona_id": persona["id"], "url": f"{server.url}/hook"},
            )
            assert r.status_code == 201, r.text
            # The operator takes loopback off the allowed networks after the URL was saved.
            app.state.settings.outbound_allowed_networks = ""
            [pub] = publish_now(app, owner, persona["id"], "Not for loopback", ["webhook"])
    assert pub["state"] == "failed", pub
    assert pub["attempts"] == 1 and pub["error_class"] == "Permanent", pub
    assert "Refused to connect to 127.0.0.1: it is a loopback address" in pub["last_error"]
    assert "DIGIPERSONA_OUTBOUND_ALLOWED_NETWORKS" in pub["last_error"]
    assert receiver.deliveries == [] and receiver.rejected == []


REFUSED_URLS = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://[::1]/hook",
    "http://10.0.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://0.0.0.0:8080/hook",
    "http://[::ffff:127.0.0.1]/hook",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_a_webhook_connection_to_a_refused_address_is_not_saved(
    owner: Any, public_only: Any, url: str
) -> None:
    persona = owner.post("/api/v1/personas", json={"name": "Hook"}).json()
    r = owner.post(
        "/api/v1/integrations/webhook/connect", json={"persona_id": persona["id"], "url": url}
    )
    assert r.status_code == 422, r.text
    problem = r.json()
    assert "Refused to connect to" in problem["detail"]
    assert "DIGIPERSONA_OUTBOUND_ALLOWED_NETWORKS" in problem["detail"]
    assert problem["errors"][0]["field"] == "url"
    assert owner.get("/api/v1/connections").json() == []


def test_a_bluesky_server_on_a_refused_address_is_not_used(owner: Any, public_only: Any) -> None:
    persona = owner.post("/api/v1/personas", json={"name": "Sky"}).json()
    r = owner.post(
        "/api/v1/integrations/bluesky/connect",
        json={
            "persona_id": persona["id"],
            "handle": "alice.test",
            "app_password": "abcd-efgh-ijkl-mnop",
            "service_url": "http://169.254.169.254",
        },
    )
    assert r.status_code == 422, r.text
    problem = r.json()
    assert "Refused to connect to 169.254.169.254: it is a link-local address" in problem["detail"]
    assert problem["errors"][0]["field"] == "service_url"
    assert owner.get("/api/v1/connections").json() == []


def test_the_connections_page_refuses_a_webhook_on_a_refused_address(
    owner: Any, public_only: Any
) -> None:
    from tests.web.test_shell import csrf_from, web_login

    persona = owner.post("/api/v1/personas", json={"name": "Hook"}).json()
    client = owner.client
    web_login(client, owner.email)
    page = client.get("/connections").text
    r = client.post(
        "/connections/connect/webhook",
        data={
            "csrf_token": csrf_from(page),
            "persona_id": persona["id"],
            "url": "http://10.0.0.1/hook",
        },
        follow_redirects=True,
    )
    assert r.status_code == 200
    assert "Refused to connect to 10.0.0.1: it is a private address" in r.text
    assert owner.get("/api/v1/connections").json() == []
