"""Links from outside (a receiver's or platform's answer) never become a script on our pages."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from digipersona.app import create_app
from digipersona.kit.time import utcnow
from digipersona.models import Publication
from digipersona.worker.embedded import Dispatcher
from digipersona.worker.runtime import build_runtime
from tests.conftest import make_settings, register_actor
from tests.fakes.server import serve
from tests.fakes.webhook_receiver import Reply, WebhookReceiver
from tests.web.test_shell import web_login

SECRET = "receiver-shared-secret-0123456789"
EVIL = "javascript:alert(document.domain)"


def _publish_via_webhook(app: Any, owner: Any, server_url: str) -> str:
    """Connect a webhook, approve a post, publish it through the engine; the post id."""
    persona = owner.post("/api/v1/personas", json={"name": "Hook"}).json()
    r = owner.post(
        "/api/v1/integrations/webhook/connect",
        json={"persona_id": persona["id"], "url": f"{server_url}/hook", "secret": SECRET},
    )
    assert r.status_code == 201, r.text
    post = owner.post(
        "/api/v1/content",
        json={"persona_id": persona["id"], "body": "Hello", "platforms": ["webhook"]},
    ).json()
    assert owner.post(f"/api/v1/content/{post['id']}/submit").status_code == 200
    assert owner.post(f"/api/v1/content/{post['id']}/approve").status_code == 200
    at = (utcnow() + timedelta(minutes=5)).isoformat()
    assert owner.post(f"/api/v1/content/{post['id']}/schedule", json={"at": at}).status_code == 200
    # Due now, without waiting for the clock.
    with app.state.sessionmaker.begin() as session:
        past = utcnow() - timedelta(seconds=1)
        session.execute(
            update(Publication)
            .where(Publication.post_id == uuid.UUID(post["id"]))
            .values(scheduled_at=past, next_attempt_at=past)
        )
    runtime = build_runtime(app.state.settings, factory=app.state.sessionmaker)
    dispatcher = Dispatcher(runtime.engine, threads=2, batch=10, poll_seconds=0.05)
    try:
        dispatcher.drain(timeout=30)
    finally:
        dispatcher.stop()
        runtime.http.close()
    return str(post["id"])


def test_a_javascript_url_from_a_receiver_is_dropped_and_the_post_published(
    tmp_path: Path, database_url: str
) -> None:
    receiver = WebhookReceiver(SECRET)
    receiver.script.append(Reply(status=201, body={"id": "hook-1", "url": EVIL}, store=True))
    with serve(receiver) as server:
        app = create_app(make_settings(tmp_path, database_url))
        with TestClient(app) as client:
            owner = register_actor(client, "xss")
            post_id = _publish_via_webhook(app, owner, server.url)
            [pub] = owner.get(f"/api/v1/content/{post_id}/schedule").json()["publications"]
            assert pub["state"] == "published", pub["last_error"]
            assert pub["external_url"] is None
            assert web_login(client, owner.email).status_code == 303
            for page in ("/dashboard", f"/content/{post_id}"):
                html = client.get(page).text
                assert "javascript:" not in html, page


def test_a_stored_javascript_url_is_not_rendered_as_a_link(
    tmp_path: Path, database_url: str
) -> None:
    """Defence in depth: a row written before the fix (or by any other path) stays inert."""
    receiver = WebhookReceiver(SECRET)
    with serve(receiver) as server:
        app = create_app(make_settings(tmp_path, database_url))
        with TestClient(app) as client:
            owner = register_actor(client, "xss2")
            post_id = _publish_via_webhook(app, owner, server.url)
            assert web_login(client, owner.email).status_code == 303
            # A good link is shown ...
            assert f'href="{receiver.public_url}/1"' in client.get(f"/content/{post_id}").text
            # ... a bad one is not.
            with app.state.sessionmaker.begin() as session:
                session.execute(
                    update(Publication)
                    .where(Publication.post_id == uuid.UUID(post_id))
                    .values(external_url=EVIL)
                )
            for page in ("/dashboard", f"/content/{post_id}"):
                r = client.get(page)
                assert r.status_code == 200
                assert "javascript:" not in r.text, page
