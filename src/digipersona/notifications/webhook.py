"""The workspace's outgoing notification webhook: signed JSON, the webhook target's scheme.

Request (``Content-Type: application/json``)::

    POST <the workspace's webhook URL>
    X-Digipersona-Event: <kind>                    e.g. approval.requested, or notification.test
    X-Digipersona-Timestamp: <unix seconds>
    X-Digipersona-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">
    X-Digipersona-Idempotency-Key: <the event id>

Body: ``{"event": "notification", "id", "kind", "title", "body", "url", "data",
"workspace": {"id", "name"}, "created_at"}``. The key is the secret shown once when the webhook
was set; receivers check it with ``platforms.webhook.provider.verify_signature``. Any 2xx counts
as delivered; no answer, 5xx, 408 and 429 are retried with backoff, other answers are given up
at once (delivery.py). The URL is an admin's
choice, so it is sent through the outbound guard's client (``kit/outbound.py``): an address the
guard refuses is not delivered, and the outcome says why.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass

import httpx

from digipersona.config import Settings
from digipersona.kit import outbound
from digipersona.kit.time import isoformat_z, utcnow
from digipersona.notifications import repository
from digipersona.notifications.delivery import Channels, Event, permanent, transient
from digipersona.platforms.webhook.provider import (
    EVENT_HEADER,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    USER_AGENT,
    sign,
)

logger = logging.getLogger("digipersona.notifications")
TIMEOUT_SECONDS = 10.0
RETRIED_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status: int | None
    message: str
    retry: bool = False


def payload(event: Event, base_url: str) -> bytes:
    document = {
        "event": "notification",
        "id": str(event.id),
        "kind": event.kind,
        "title": event.title,
        "body": event.body,
        "url": base_url.rstrip("/") + event.path,
        "data": event.data,
        "workspace": {"id": str(event.workspace_id), "name": event.workspace_name},
        "created_at": isoformat_z(event.created_at),
    }
    return json.dumps(document, separators=(",", ":"), default=str).encode()


def post(url: str, secret: str, event: Event, settings: Settings) -> Outcome:
    """Sign and send one event; the outcome never carries the URL or the secret."""
    body = payload(event, settings.public_base_url)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: event.kind,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        IDEMPOTENCY_HEADER: str(event.id),
    }
    client = outbound.client(settings, timeout=TIMEOUT_SECONDS)
    try:
        response = client.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except httpx.TimeoutException:
        return Outcome(False, None, "The receiver did not answer in time.", retry=True)
    except outbound.OutboundRefused as exc:
        return Outcome(False, None, f"Nothing was sent. {exc}")
    except httpx.HTTPError as exc:
        reason = f"The receiver could not be reached ({type(exc).__name__})."
        return Outcome(False, None, reason, retry=True)
    code = response.status_code
    if response.is_success:
        return Outcome(True, code, "Delivered.")
    return Outcome(False, code, f"The receiver answered {code}.", retry=code in RETRIED_STATUSES)


def deliver(channels: Channels, event: Event) -> None:
    """Send an event to the workspace's webhook; ``DeliveryFailed`` says whether to retry.

    Retried: no answer in time, no connection, 5xx, 408 and 429. Given up: any other answer
    that is not a success, a URL the outbound guard refuses, no webhook any more.
    """
    with channels.factory() as session:
        row = repository.webhook(session, event.workspace_id)
        if row is None:
            raise permanent("The workspace's webhook was removed before delivery.")
        url, secret = row.url, channels.cipher.decrypt(row.secret_enc)
    outcome = post(url, secret, event, channels.settings)
    if outcome.delivered:
        return
    if outcome.retry:
        raise transient(outcome.message)
    raise permanent(outcome.message)


def sample_event(workspace_id: uuid.UUID, workspace_name: str) -> Event:
    return Event(
        id=uuid.uuid4(),
        workspace_id=workspace_id,
        workspace_name=workspace_name,
        kind="notification.test",
        title="Test notification from digipersona",
        body="If you can read this, the webhook works.",
        created_at=utcnow(),
    )
