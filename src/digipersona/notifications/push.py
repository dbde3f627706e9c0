"""Web Push: VAPID keys generated on first run, messages encrypted per RFC 8291 (pywebpush).

Each device's message is one outbox delivery (delivery.py), sent by the job engine after the
notification's transaction commits; a gone subscription (404/410 from the push service) is
deleted.

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

from digipersona.db import write_scope
from digipersona.models import PushSubscription
from digipersona.notifications import repository
from digipersona.notifications.delivery import Channels, DeliveryFailed, Event, permanent, transient

logger = logging.getLogger("digipersona.push")
_lock = threading.Lock()


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


def send(
    subscription: PushSubscription, payload: dict[str, Any], vapid: Vapid02, subject: str
) -> None:
    """Encrypt and send one message; ``DeliveryFailed`` (``gone`` in the reason for 404/410)."""
    # Imported here: pywebpush brings aiohttp along (0.2 s at every start) for a rare send.
    from pywebpush import WebPushException, webpush
    from requests import RequestException

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
            raise permanent(f"The device is gone (the push service answered {status}).") from exc
        if status is None or status >= 500 or status in (408, 429):
            raise transient(f"The push service answered {status or type(exc).__name__}.") from exc
        raise permanent(f"The push service answered {status}.") from exc
    except RequestException as exc:
        raise transient(f"The push service could not be reached ({type(exc).__name__}).") from exc


def deliver(channels: Channels, subscription_id: uuid.UUID, event: Event) -> None:
    """Push a notification to one device; a gone device's subscription is deleted."""
    if channels.vapid is None:
        channels.vapid = load_vapid(channels.settings.data_dir)
    with channels.factory() as session:
        subscription = session.get(PushSubscription, subscription_id)
        if subscription is None:
            raise permanent("The device was removed before delivery.")
        session.expunge(subscription)
    message = {"title": event.title, "body": event.body, "url": event.path, "kind": event.kind}
    try:
        send(subscription, message, channels.vapid, channels.push_subject)
    except DeliveryFailed as exc:
        if exc.reason.startswith("The device is gone"):
            with write_scope(channels.factory) as session:
                repository.delete_subscriptions(session, [subscription_id])
        raise
