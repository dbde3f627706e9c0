"""Notifications: routed by each member's preferences to in-app, email, webhook and Web Push.

In-app rows and the other channels' outbox rows are written in the caller's transaction (they
exist if and only if it commits); the job engine sends the outbox rows afterwards, with retries
(delivery.py), so a slow or failing channel never delays or breaks the caller.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from digipersona.auth.principal import Principal
from digipersona.config import Settings
from digipersona.exceptions import NotFound, ValidationFailed
from digipersona.kit import outbound
from digipersona.kit.repository import Page
from digipersona.kit.time import utcnow
from digipersona.models import (
    Notification,
    NotificationDelivery,
    NotificationWebhook,
    PushSubscription,
    Workspace,
)
from digipersona.notifications import delivery, preferences, repository, webhook
from digipersona.notifications.delivery import Event
from digipersona.notifications.schemas import DeadLetter, SubscriptionIn

logger = logging.getLogger("digipersona.notifications")


@dataclass(frozen=True)
class Routing:
    """Who gets an event on which channel."""

    in_app: list[uuid.UUID]
    email: list[str]
    push: list[uuid.UUID]
    webhook: bool


def route(
    session: Session, workspace_id: uuid.UUID, kind: str, user_id: uuid.UUID | None = None
) -> Routing:
    """Apply every member's preferences to an event kind (all members in-app for other kinds)."""
    pref_kind = preferences.preference_kind(kind)
    in_app: list[uuid.UUID] = []
    email: list[str] = []
    push: list[uuid.UUID] = []
    webhook = False
    for member in repository.members(session, workspace_id):
        if user_id is not None and member.user_id != user_id:
            continue
        if pref_kind is None:
            in_app.append(member.user_id)
            continue
        row = preferences.effective(member.role, member.choices)[pref_kind]
        if row["in_app"]:
            in_app.append(member.user_id)
        if row["email"]:
            email.append(member.email)
        if row["push"]:
            push.append(member.user_id)
        webhook = webhook or row["webhook"]
    return Routing(in_app=in_app, email=email, push=push, webhook=webhook)


def notify(
    session: Session,
    *,
    workspace_id: uuid.UUID,
    kind: str,
    title: str,
    body: str = "",
    data: dict[str, Any] | None = None,
    user_id: uuid.UUID | None = None,
) -> list[Notification]:
    """Notify the members of a workspace (or one of them) who want this kind of event."""
    routing = route(session, workspace_id, kind, user_id)
    rows = [
        Notification(
            workspace_id=workspace_id,
            user_id=uid,
            kind=kind,
            title=title[:300],
            body=body,
            data=data or {},
        )
        for uid in routing.in_app
    ]
    repository.add_notifications(session, rows)
    logger.info(
        "notification %s: %d in-app, %d email, %d push, webhook %s",
        kind,
        len(rows),
        len(routing.email),
        len(routing.push),
        "yes" if routing.webhook else "no",
    )
    if not (routing.email or routing.push or routing.webhook):
        return rows
    workspace = session.get(Workspace, workspace_id)
    event = Event(
        id=uuid.uuid4(),
        workspace_id=workspace_id,
        workspace_name=workspace.name if workspace else "",
        kind=kind,
        title=title,
        body=body,
        created_at=utcnow(),
        data=data or {},
    )
    _enqueue(session, event, routing)
    return rows


def _enqueue(session: Session, event: Event, routing: Routing) -> None:
    """Write the outbox rows in the caller's transaction; wake the job engine after commit."""
    channels = delivery.configured()
    email_on = channels is None or bool(channels.settings.smtp_host)
    targets: list[tuple[str, list[str]]] = []
    if routing.email and email_on:
        targets.append(("email", list(routing.email)))
    if routing.push:
        subscriptions = repository.push_subscriptions(session, event.workspace_id, routing.push)
        targets += [("push", [str(item.id)]) for item in subscriptions]
    if routing.webhook and repository.webhook(session, event.workspace_id) is not None:
        targets.append(("webhook", []))
    now = utcnow()
    repository.add_deliveries(
        session,
        [
            NotificationDelivery(
                workspace_id=event.workspace_id,
                channel=channel,
                event=event.to_json(),
                recipients=recipients,
                next_attempt_at=now,
            )
            for channel, recipients in targets
        ],
    )
    if targets:
        session.info.setdefault("after_commit", []).append(delivery.wake)


def dead_letters(session: Session, principal: Principal, limit: int = 20) -> list[DeadLetter]:
    """The workspace's deliveries that gave up, newest first, with the reason."""
    return [
        DeadLetter(
            channel=row.channel,
            kind=str(row.event.get("kind", "")),
            title=str(row.event.get("title", "")),
            attempts=row.attempts,
            reason=row.last_error or "",
            at=row.updated_at,
        )
        for row in repository.dead_letters(session, principal.workspace_id, limit)
    ]


# -- in-app list -----------------------------------------------------------------------------
def list_for(
    session: Session,
    principal: Principal,
    *,
    unread_only: bool = False,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[Notification]:
    """Your notifications in this workspace, newest first, after ``cursor``."""
    return repository.NotificationRepository(session).page_for(
        principal.workspace_id,
        principal.user_id,
        unread_only=unread_only,
        limit=limit,
        cursor=cursor,
    )


def unread_count(session: Session, principal: Principal, cap: int) -> int | None:
    """How many of your notifications are unread, if at most ``cap`` (else None)."""
    return repository.NotificationRepository(session).unread_count(
        principal.workspace_id, principal.user_id, cap
    )


def mark_read(session: Session, principal: Principal, notification_id: uuid.UUID) -> Notification:
    row = repository.notification_of(
        session, principal.workspace_id, principal.user_id, notification_id
    )
    if row is None:
        raise NotFound("No such notification.")
    if row.read_at is None:
        row.read_at = utcnow()
        session.flush()
    return row


def mark_all_read(session: Session, principal: Principal) -> int:
    return repository.mark_all_read(session, principal.workspace_id, principal.user_id, utcnow())


# -- preferences -----------------------------------------------------------------------------
def get_preferences(session: Session, principal: Principal) -> preferences.Matrix:
    row = repository.preference(session, principal.workspace_id, principal.user_id)
    return preferences.effective(principal.role, row.choices if row else None)


def set_preferences(session: Session, principal: Principal, submitted: Any) -> preferences.Matrix:
    """Change the cells named in ``submitted``; the rest keep their value."""
    update = preferences.validate(principal.role, submitted)
    row = repository.preference(session, principal.workspace_id, principal.user_id)
    choices = preferences.merge(row.choices if row else None, update)
    repository.save_preference(session, principal.workspace_id, principal.user_id, choices)
    return preferences.effective(principal.role, choices)


# -- the workspace webhook -------------------------------------------------------------------
def get_webhook(session: Session, principal: Principal) -> NotificationWebhook | None:
    return repository.webhook(session, principal.workspace_id)


def set_webhook(
    session: Session,
    principal: Principal,
    url: str,
    *,
    rotate_secret: bool,
    cipher: Any,
    settings: Settings,
) -> tuple[NotificationWebhook, str | None]:
    """Set the URL; a new secret (returned once) when there was none or when asked.

    The URL must pass the outbound guard (``kit/outbound.py``): a refused one is a 422.
    """
    url = url.strip()
    if not url.startswith(("https://", "http://")) or len(url) > 2000:
        raise ValidationFailed(
            "The webhook URL must start with https:// (or http://) and be at most 2000 characters.",
            errors=[{"field": "url", "message": "not an http(s) URL"}],
        )
    outbound.ensure_allowed(url, settings, field="url")
    existing = repository.webhook(session, principal.workspace_id)
    secret = None
    if existing is None or rotate_secret:
        secret = secrets.token_urlsafe(32)
    row = repository.save_webhook(
        session, principal.workspace_id, url, cipher.encrypt(secret) if secret else None
    )
    return row, secret


def clear_webhook(session: Session, principal: Principal) -> bool:
    """Remove the webhook (nothing to do when there is none); True if one was removed."""
    return repository.delete_webhook(session, principal.workspace_id)


def send_test(
    session: Session, principal: Principal, cipher: Any, settings: Settings
) -> dict[str, Any]:
    """Send a signed test event now and say what the receiver answered."""
    row = repository.webhook(session, principal.workspace_id)
    if row is None:
        raise NotFound("This workspace has no notification webhook; set its URL first.")
    workspace = session.get(Workspace, principal.workspace_id)
    event = webhook.sample_event(principal.workspace_id, workspace.name if workspace else "")
    outcome = webhook.post(row.url, cipher.decrypt(row.secret_enc), event, settings)
    return {"delivered": outcome.delivered, "status": outcome.status, "message": outcome.message}


# -- push subscriptions ----------------------------------------------------------------------
def subscribe(session: Session, principal: Principal, body: SubscriptionIn) -> PushSubscription:
    """Save this device's subscription (the same endpoint again updates its keys)."""
    existing = repository.subscription_of(
        session, principal.workspace_id, principal.user_id, body.endpoint
    )
    row = existing or PushSubscription(
        workspace_id=principal.workspace_id, user_id=principal.user_id, endpoint=body.endpoint
    )
    row.p256dh, row.auth, row.device = body.keys.p256dh, body.keys.auth, body.device
    session.add(row)
    session.flush()
    return row


def subscriptions(session: Session, principal: Principal) -> list[PushSubscription]:
    return repository.subscriptions_of(session, principal.workspace_id, principal.user_id)


def unsubscribe(session: Session, principal: Principal, subscription_id: uuid.UUID) -> None:
    row = session.get(PushSubscription, subscription_id)
    if (
        row is None
        or row.user_id != principal.user_id
        or row.workspace_id != principal.workspace_id
    ):
        raise NotFound("No such push subscription.")
    session.delete(row)
