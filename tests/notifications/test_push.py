"""Web Push: a real message encrypted to a local endpoint is decrypted with the device's key."""

from __future__ import annotations

import base64
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from digipersona.models import PushSubscription
from digipersona.notifications import outbox
from tests.conftest import Actor


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class PushService:
    """A local push service endpoint that keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                outer.received.append(({**headers, ":path": self.path}, body))
                self.send_response(201)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


def test_push_message_is_encrypted_for_the_device_and_decrypts(owner: Actor, settings: Any) -> None:
    service = PushService()
    device_key = ec.generate_private_key(ec.SECP256R1())
    p256dh = b64(
        device_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    auth = os.urandom(16)
    key = owner.get("/api/v1/push/key").json()["public_key"]
    assert len(base64.urlsafe_b64decode(key + "==")) == 65
    r = owner.post(
        "/api/v1/push/subscriptions",
        json={
            "endpoint": f"{service.url}/push/device-1",
            "keys": {"p256dh": p256dh, "auth": b64(auth)},
            "device": "phone",
        },
    )
    assert r.status_code == 201, r.text
    persona = owner.post("/api/v1/personas", json={"name": "Pushy"}).json()
    post = owner.post(
        "/api/v1/content",
        json={"persona_id": persona["id"], "body": "Please approve me", "platforms": ["x"]},
    ).json()
    assert owner.post(f"/api/v1/content/{post['id']}/submit").status_code == 200
    assert outbox.drain()  # pushed after the commit, off the request thread
    [(headers, body)] = service.received
    assert headers["content-encoding"] == "aes128gcm"
    assert headers["authorization"].startswith("vapid t=")
    assert key in headers["authorization"]
    plain = http_ece.decrypt(body, private_key=device_key, auth_secret=auth, version="aes128gcm")
    message = json.loads(plain)
    assert message["kind"] == "approval.requested"
    assert message["title"] == "Pushy: a post waits for your approval"
    assert message["url"] == "/approvals"
    assert (settings.data_dir / "vapid_private.pem").stat().st_mode & 0o777 == 0o600
    service.server.shutdown()


def test_subscriptions_are_per_user_and_removable(owner: Actor, collaborator: Actor) -> None:
    keys = {"p256dh": "B" * 87, "auth": "a" * 22}
    sub = owner.post(
        "/api/v1/push/subscriptions", json={"endpoint": "https://push.example/1", "keys": keys}
    ).json()
    assert [s["id"] for s in owner.get("/api/v1/push/subscriptions").json()] == [sub["id"]]
    assert collaborator.get("/api/v1/push/subscriptions").json() == []
    assert collaborator.delete(f"/api/v1/push/subscriptions/{sub['id']}").status_code == 404
    assert owner.delete(f"/api/v1/push/subscriptions/{sub['id']}").status_code == 204
    bad = owner.post("/api/v1/push/subscriptions", json={"endpoint": "ftp://x", "keys": keys})
    assert bad.status_code == 422


def test_push_goes_only_to_members_who_want_it(owner: Actor, make_member: Any) -> None:
    service = PushService()
    approver = make_member("approver")
    keys = {
        "p256dh": b64(
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        ),
        "auth": b64(os.urandom(16)),
    }
    for actor, device in ((owner, "owner-phone"), (approver, "approver-phone")):
        r = actor.post(
            "/api/v1/push/subscriptions",
            json={"endpoint": f"{service.url}/push/{device}", "keys": keys, "device": device},
        )
        assert r.status_code == 201, r.text
    r = owner.request(
        "PUT",
        "/api/v1/notifications/preferences",
        json={"preferences": {"approval.requested": {"push": False}}},
    )
    assert r.status_code == 200
    persona = owner.post("/api/v1/personas", json={"name": "Quiet"}).json()
    post = owner.post(
        "/api/v1/content",
        json={"persona_id": persona["id"], "body": "Approve quietly", "platforms": ["x"]},
    ).json()
    assert owner.post(f"/api/v1/content/{post['id']}/submit").status_code == 200
    assert outbox.drain()
    # The owner turned push off for approval requests: only the approver's device rings.
    assert [h[":path"] for h, _ in service.received] == ["/push/approver-phone"]
    service.server.shutdown()


def test_a_push_endpoint_on_a_refused_address_is_not_saved(
    owner: Actor, public_only: Any, session_factory: Any
) -> None:
    keys = {"p256dh": "B" * 87, "auth": "a" * 22}
    for endpoint in ("http://127.0.0.1:9/push/1", "http://[::1]/push", "http://10.0.0.1/push"):
        r = owner.post("/api/v1/push/subscriptions", json={"endpoint": endpoint, "keys": keys})
        assert r.status_code == 422, r.text
        problem = r.json()
        assert "Refused to connect to" in problem["detail"]
        assert "DIGIPERSONA_OUTBOUND_ALLOWED_NETWORKS" in problem["detail"]
        assert problem["errors"][0]["field"] == "endpoint"
    with session_factory() as session:
        assert session.scalars(select(PushSubscription)).all() == []


def test_processes_starting_together_on_a_fresh_data_dir_share_one_vapid_key(
    tmp_path: Any, monkeypatch: Any
) -> None:
    """Web and workers on one shared data dir: another process writes its key while this one
    is making its own. Both end up with the key that got there first, and nobody crashes."""
    from pathlib import Path

    from py_vapid import Vapid02

    from digipersona.notifications import push

    data_dir = Path(tmp_path)
    theirs = Vapid02()
    theirs.generate_keys()
    real_generate = Vapid02.generate_keys

    def other_process_wins(self: Any) -> None:
        (data_dir / "vapid_private.pem").write_bytes(theirs.private_pem())
        real_generate(self)

    monkeypatch.setattr(Vapid02, "generate_keys", other_process_wins)
    mine = push.load_vapid(data_dir)
    assert push.public_key(mine) == push.public_key(theirs)
    assert sorted(p.name for p in data_dir.iterdir()) == ["vapid_private.pem"]
    again = push.load_vapid(data_dir)
    assert push.public_key(again) == push.public_key(theirs)
