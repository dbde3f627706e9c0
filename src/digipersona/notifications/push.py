"""Web Push: VAPID keys generated on first run, messages encrypted per RFC 8291 (pywebpush).

Delivery happens after the notification's transaction commits, never inside it; a gone
subscription (404/410 from the push service) is deleted.

Endpoints are checked by the outbound guard (``kit/outbound.py``) when a subscription is saved.
pywebpush sends with ``requests``, outside the guarded client, so they are not checked again
here: a known gap (docs/notifications.md).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import uuid
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from digipersona.models import PushSubscription
from digipersona.notifications import repository
from digipersona.notifications.delivery import Event

logger = logging.getLogger("digipersona.push")
_lock = threading.Lock()
_config: dict[str, Any] = {}


def load_vapid(data_dir: Path) -> Vapid02:
    """The server's VAPID key pair, created (mode 0600) in the data dir on first use.

    Web and worker processes sharing a data dir start together on a fresh install: the key is
    written to a file of its own, then linked into place, so another process sees no file or
    a whole one, and the first link wins for everybody.
    """
    path = data_dir / "vapid_private.pem"
    with _lock:
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            _create_once(path)
        return Vapid02.from_file(str(path))


def _create_once(path: Path) -> None:
    key = Vapid02()
    key.generate_keys()
    pem = key.private_pem()
    draft = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(draft, path)
    except FileExistsError:
        pass  # another process linked its key first: everybody uses that one
    finally:
        draft.unlink(missing_ok=True)


def public_key(vapid: Vapid02) -> str:
    """The applicationServerKey browsers need (uncompressed point, base64url)."""
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def configure(factory: sessionmaker[Session] | None, vapid: Vapid02 | None, subject: str) -> None:
    """Enable delivery for this process (the app does it at start)."""
    _config.update(factory=factory, vapid=vapid, subject=subject)


def send(
    subscription: PushSubscription, payload: dict[str, Any], vapid: Vapid02, subject: str
) -> bool:
    """Encrypt and send one message; False when the subscription is gone."""
    # Imported here: pywebpush brings aiohttp along (0.2 s at every start) for a rare send.
    from pywebpush import WebPushException, webpush

    info = {
        "endpoint": subscription.endpoint,
        "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
    }
    try:
        webpush(
            info,
            data=json.dumps(payload),
            vapid_private_key=vapid,
            vapid_claims={"sub": subject},
            timeout=10,
            ttl=3600,
        )
    except WebPushException as exc:
        status = getattr(exc.response, "status_code", None)
        if status in (404, 410):
            return False
        logger.warning("push to a subscription failed: %s", status or type(exc).__name__)
    return True


def deliver(workspace_id: uuid.UUID, user_ids: list[uuid.UUID], event: Event) -> int:
    """Push a notification to every device of these members; returns how many were sent."""
    factory, vapid = _config.get("factory"), _config.get("vapid")
    if factory is None or vapid is None or not user_ids:
        return 0
    with factory() as session:
        subscriptions = repository.push_subscriptions(session, workspace_id, user_ids)
        for item in subscriptions:
            session.expunge(item)
    sent, gone = 0, []
    message = {"title": event.title, "body": event.body, "url": event.path, "kind": event.kind}
    for item in subscriptions:
        if send(item, message, vapid, _config["subject"]):
            sent += 1
        else:
            gone.append(item.id)
    if gone:
        with factory.begin() as session:
            session.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone)))
    return sent
