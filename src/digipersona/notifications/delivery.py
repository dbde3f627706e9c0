"""Durable delivery of notifications (email, webhook, Web Push) through an outbox.

``service.notify`` writes one ``NotificationDelivery`` row per channel (per device for push) in
the caller's transaction, so a delivery exists if and only if its event does. The job
``notifications.deliver`` (the embedded dispatcher, or Celery in scale-out mode) claims due rows
with an atomic conditional UPDATE, sends them, and records the outcome in its own transaction:

- delivered;
- a transient failure (network, timeout, HTTP 5xx/408/429, SMTP 4xx) is retried with
  exponential backoff, ``MAX_ATTEMPTS`` times in all;
- a permanent failure (HTTP 4xx, SMTP 5xx, a refused address, a gone device) or the last
  attempt's failure is a dead letter, with its reason shown on the Notifications page.

A process that dies mid-send leaves its claim to expire after ``LEASE_SECONDS``; the row is then
sent again (the webhook's idempotency key is the event id, so a receiver can drop the repeat).
A failure is logged by its type and reason, never with a secret or a URL (which may carry one).
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from digipersona.config import Settings
from digipersona.kit.crypto import TokenCipher

logger = logging.getLogger("digipersona.notifications")

MAX_ATTEMPTS = 6
BACKOFF_SECONDS = 30.0
BACKOFF_CAP_SECONDS = 3600.0
LEASE_SECONDS = 300.0
BATCH = 50

URLS = {
    "approval.requested": "/approvals",
    "review.decided": "/content",
    "publication.failed": "/jobs",
    "publication.missed": "/jobs",
    "connection.expiring": "/connections",
    "connection.paused": "/connections",
    "connection.expired": "/connections",
    "interaction.lead": "/interactions",
}


@dataclass(frozen=True)
class Event:
    """One notification event, as every channel sends it."""

    id: uuid.UUID
    workspace_id: uuid.UUID
    workspace_name: str
    kind: str
    title: str
    body: str
    created_at: datetime
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return URLS.get(self.kind, "/dashboard")

    def to_json(self) -> dict[str, Any]:
        """The event as the outbox row stores it (the workspace id is the row's own)."""
        return {
            "id": str(self.id),
            "workspace_name": self.workspace_name,
            "kind": self.kind,
            "title": self.title,
            "body": self.body,
            "created_at": self.created_at.isoformat(),
            "data": self.data,
        }

    @classmethod
    def from_json(cls, workspace_id: uuid.UUID, doc: dict[str, Any]) -> Event:
        return cls(
            id=uuid.UUID(doc["id"]),
            workspace_id=workspace_id,
            workspace_name=doc["workspace_name"],
            kind=doc["kind"],
            title=doc["title"],
            body=doc["body"],
            created_at=datetime.fromisoformat(doc["created_at"]),
            data=doc.get("data") or {},
        )


class DeliveryFailed(Exception):
    """A channel could not deliver; ``permanent`` failures are never retried.

    ``done`` names the recipients that did receive it before the failure (email), so a retry
    goes only to the others.
    """

    def __init__(self, reason: str, *, permanent: bool, done: tuple[str, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.done = done


def transient(reason: str, done: tuple[str, ...] = ()) -> DeliveryFailed:
    return DeliveryFailed(reason, permanent=False, done=done)


def permanent(reason: str, done: tuple[str, ...] = ()) -> DeliveryFailed:
    return DeliveryFailed(reason, permanent=True, done=done)


@dataclass
class Channels:
    """What sending needs: settings, a session factory, the cipher and the VAPID key."""

    settings: Settings
    factory: sessionmaker[Session]
    cipher: TokenCipher
    vapid: Any = None

    @property
    def push_subject(self) -> str:
        return f"mailto:{self.settings.smtp_from}"


def backoff(attempts: int) -> timedelta:
    """The wait before the next attempt after ``attempts`` failed ones."""
    seconds = min(BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS)
    return timedelta(seconds=seconds)


# -- this process's wiring (the app and the worker runtime set it) ---------------------------
_lock = threading.Lock()
_state: dict[str, Any] = {"channels": None}
_wake = threading.Event()


def configure(
    settings: Settings, factory: sessionmaker[Session], cipher: TokenCipher, vapid: Any = None
) -> None:
    """Give this process what ``drain`` and the delivery job send with."""
    with _lock:
        _state["channels"] = Channels(settings, factory, cipher, vapid)


def configured() -> Channels | None:
    value: Channels | None = _state["channels"]
    return value


def wake() -> None:
    """After a commit that queued deliveries: the embedded dispatcher runs the job soon."""
    _wake.set()


def take_wake() -> bool:
    """True (once) when deliveries were queued since the last call."""
    if not _wake.is_set():
        return False
    _wake.clear()
    return True
