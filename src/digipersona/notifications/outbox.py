"""The outbox's job side: claim due deliveries, send them, record the outcome (see delivery.py)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from digipersona.db import write_scope
from digipersona.kit.time import utcnow
from digipersona.models import NotificationDelivery
from digipersona.notifications import mail, push, repository, webhook
from digipersona.notifications.delivery import (
    BATCH,
    LEASE_SECONDS,
    MAX_ATTEMPTS,
    Channels,
    DeliveryFailed,
    Event,
    backoff,
    configured,
    permanent,
)

logger = logging.getLogger("digipersona.notifications")
KEEP_DELIVERED_DAYS = 7
KEEP_DEAD_DAYS = 30


def deliver_due(channels: Channels, owner: str, *, now: datetime | None = None) -> int:
    """Claim one batch of due deliveries, send each, record each; returns how many were claimed."""
    now = now or utcnow()
    with write_scope(channels.factory) as session:
        rows = repository.claim_deliveries(
            session, owner, now, now + timedelta(seconds=LEASE_SECONDS), BATCH
        )
        session.expunge_all()
    for row in rows:
        try:
            _send(channels, row)
        except DeliveryFailed as exc:
            _record_failure(channels, row.id, owner, exc, now)
        except Exception as exc:  # an unforeseen error: retried like a transient one
            _record_failure(
                channels, row.id, owner, DeliveryFailed(type(exc).__name__, permanent=False), now
            )
        else:
            _record_success(channels, row.id, owner)
    return len(rows)


def purge(channels: Channels, now: datetime | None = None) -> int:
    """Forget deliveries past their keeping time (delivered: 7 days, dead letters: 30 days)."""
    now = now or utcnow()
    with write_scope(channels.factory) as session:
        return repository.purge_deliveries(
            session, now - timedelta(days=KEEP_DELIVERED_DAYS), now - timedelta(days=KEEP_DEAD_DAYS)
        )


def drain(limit: int = 100) -> bool:
    """Send every delivery due now from this thread (tests and one-shot use); True when none
    is left due (a failed one waits for its retry time)."""
    channels = configured()
    if channels is None:
        return True
    owner = f"drain:{uuid.uuid4().hex[:8]}"
    return any(not deliver_due(channels, owner, now=utcnow()) for _ in range(limit))


def _send(channels: Channels, row: NotificationDelivery) -> None:
    event = Event.from_json(row.workspace_id, row.event)
    if row.channel == "email":
        mail.deliver(channels.settings, event, list(row.recipients))
    elif row.channel == "webhook":
        webhook.deliver(channels, event)
    elif row.channel == "push":
        push.deliver(channels, uuid.UUID(row.recipients[0]), event)
    else:
        raise permanent(f"Unknown channel {row.channel!r}.")


def _record_success(channels: Channels, delivery_id: uuid.UUID, owner: str) -> None:
    with write_scope(channels.factory) as session:
        row = repository.held_delivery(session, delivery_id, owner)
        if row is None:
            return
        row.state, row.delivered_at = "delivered", utcnow()
        row.lease_owner = row.lease_until = None


def _record_failure(
    channels: Channels, delivery_id: uuid.UUID, owner: str, exc: DeliveryFailed, now: datetime
) -> None:
    with write_scope(channels.factory) as session:
        row = repository.held_delivery(session, delivery_id, owner)
        if row is None:
            return
        if exc.done:
            row.recipients = [r for r in row.recipients if r not in exc.done]
        row.last_error = exc.reason[:1000]
        row.lease_owner = row.lease_until = None
        if exc.permanent or row.attempts >= MAX_ATTEMPTS:
            row.state = "dead"
            logger.warning(
                "notification %s by %s dead-lettered after %d attempt(s): %s",
                row.event.get("kind"),
                row.channel,
                row.attempts,
                exc.reason,
            )
            return
        row.state, row.next_attempt_at = "pending", now + backoff(row.attempts)
        logger.warning(
            "notification delivery by %s failed (attempt %d, retried): %s",
            row.channel,
            row.attempts,
            exc.reason,
        )
