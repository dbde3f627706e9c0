"""The workspace's outgoing notification webhook, against the loopback webhook receiver."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy import select

from digipersona.models import NotificationWebhook
from digipersona.notifications import outbox
from digipersona.platforms.webhook.provider import verify_signature
from tests.conftest import Actor
from tests.fakes.server import serve
from tests.fakes.webhook_receiver import Reply, WebhookReceiver
from tests.notifications.test_preferences import submit_post


def set_hook(owner: Actor, url: str, **extra: Any) -> dict[str, Any]:
    r = owner.request("PUT", "/api/v1/notifications/webhook", json={"url": url, **extra})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_events_are_signed_with_the_secret_shown_once(
    owner: Actor, make_member: Any, session_factory: Any
) -> None:
    first = set_hook(owner, "http://127.0.0.1:9/placeholder")
    secret = first["secret"]
    assert first["configured"] and len(secret) >= 40
    receiver = WebhookReceiver(secret=secret)
    with serve(receiver) as server:
        again = set_hook(owner, server.url + "/hook")  # a new URL keeps the secret
        assert again["secret"] is None
        shown = owner.get("/api/v1/notifications/webhook").json()
        assert shown["url"] == server.url + "/hook" and shown["secret"] is None
        assert secret not in json.dumps(shown)
        make_member("approver")
        post_id = submit_post(owner, "Webhook me")
        assert outbox.drain()
    assert receiver.rejected == []
    [hit] = receiver.deliveries
    assert hit.headers["x-digipersona-event"] == "approval.requested"
    assert verify_signature(
        secret,
        hit.headers["x-digipersona-timestamp"],
        hit.raw,
        hit.headers["x-digipersona-signature"],
    )
    assert hit.body["event"] == "notification"
    assert hit.body["kind"] == "approval.requested"
    assert hit.body["title"] == "Pushy: a post waits for your approval"
    assert hit.body["body"] == "Webhook me"
    assert hit.body["data"] == {"post_id": post_id}
    assert hit.body["url"] == "http://testserver/approvals"
    assert hit.body["workspace"] == {"id": str(owner.workspace_id), "name": "Acme"}
    assert hit.headers["x-digipersona-idempotency-key"] == hit.body["id"]
    # Stored encrypted, never in clear.
    with session_factory() as session:
        row = session.scalars(select(NotificationWebhook)).one()
        assert secret not in row.secret_enc and row.secret_enc.startswith("gAAAA")


def test_rotating_the_secret_changes_the_signature(owner: Actor) -> None:
    old = set_hook(owner, "http://127.0.0.1:9/x")["secret"]
    new = set_hook(owner, "http://127.0.0.1:9/x", rotate_secret=True)["secret"]
    assert new and new != old
    receiver = WebhookReceiver(secret=old)
    with serve(receiver) as server:
        set_hook(owner, server.url + "/hook")
        r = owner.post("/api/v1/notifications/webhook/test")
    assert r.json()["delivered"] is False and r.json()["status"] == 401
    assert receiver.rejected == ["bad signature"]


def test_test_send_reports_what_the_receiver_answered(owner: Actor) -> None:
    secret = set_hook(owner, "http://127.0.0.1:9/x")["secret"]
    receiver = WebhookReceiver(secret=secret)
    with serve(receiver) as server:
        set_hook(owner, server.url + "/hook")
        ok = owner.post("/api/v1/notifications/webhook/test").json()
        receiver.script.append(Reply(status=503))
        down = owner.post("/api/v1/notifications/webhook/test").json()
    assert ok == {"delivered": True, "status": 201, "message": "Delivered."}
    assert down == {"delivered": False, "status": 503, "message": "The receiver answered 503."}
    [hit] = receiver.deliveries
    assert hit.headers["x-digipersona-event"] == "notification.test"
    assert verify_signature(
        secret,
        hit.headers["x-digipersona-timestamp"],
        hit.raw,
        hit.headers["x-digipersona-signature"],
    )


def test_webhook_follows_preferences_and_clearing(owner: Actor) -> None:
    secret = set_hook(owner, "http://127.0.0.1:9/x")["secret"]
    receiver = WebhookReceiver(secret=secret)
    with serve(receiver) as server:
        set_hook(owner, server.url + "/hook")
        owner.request(
            "PUT",
            "/api/v1/notifications/preferences",
            json={"preferences": {"approval.requested": {"webhook": False}}},
        )
        submit_post(owner, "one")
        assert outbox.drain()
        assert receiver.deliveries == []
        owner.request(
            "PUT",
            "/api/v1/notifications/preferences",
            json={"preferences": {"approval.requested": {"webhook": True}}},
        )
        assert owner.delete("/api/v1/notifications/webhook").status_code == 204
        submit_post(owner, "two")
        assert outbox.drain()
        assert receiver.deliveries == []
        assert owner.post("/api/v1/notifications/webhook/test").status_code == 404


def test_bad_urls_are_refused(owner: Actor) -> None:
    for url in ("ftp://hooks.example/x", "hooks.example/x"):
        r = owner.request("PUT", "/api/v1/notifications/webhook", json={"url": url})
        assert r.status_code == 422, url
        assert "https://" in r.json()["detail"]
    assert owner.get("/api/v1/notifications/webhook").json()["configured"] is False


def test_a_webhook_on_a_refused_address_is_not_saved(owner: Actor, public_only: Any) -> None:
    for url in ("http://127.0.0.1:9/x", "http://localhost/x", "http://169.254.169.254/x"):
        r = owner.request("PUT", "/api/v1/notifications/webhook", json={"url": url})
        assert r.status_code == 422, r.text
        problem = r.json()
        assert "Refused to connect to" in problem["detail"]
        assert "DIGIPERSONA_OUTBOUND_ALLOWED_NETWORKS" in problem["detail"]
        assert problem["errors"][0]["field"] == "url"
    assert owner.get("/api/v1/notifications/webhook").json()["configured"] is False


def test_a_webhook_refused_when_sent_is_not_delivered_and_says_why(
    owner: Actor, make_member: Any, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    secret = set_hook(owner, "http://127.0.0.1:9/x")["secret"]
    receiver = WebhookReceiver(secret=secret)
    with serve(receiver) as server:
        set_hook(owner, server.url + "/hook")  # saved while loopback was allowed
        settings.outbound_allowed_networks = ""
        result = owner.post("/api/v1/notifications/webhook/test").json()
        make_member("approver")
        with caplog.at_level(logging.WARNING, logger="digipersona.notifications"):
            submit_post(owner, "Not for loopback")  # a real event, delivered off-thread
            assert outbox.drain()
    assert result["delivered"] is False and result["status"] is None
    assert "Refused to connect to 127.0.0.1: it is a loopback address" in result["message"]
    assert "by webhook dead-lettered after 1 attempt(s): Nothing was sent. Refused" in caplog.text
    assert receiver.deliveries == [] and receiver.rejected == []
