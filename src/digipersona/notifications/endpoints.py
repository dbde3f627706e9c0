from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from digipersona.auth.dependencies import Admin, Reader
from digipersona.auth.principal import Principal
from digipersona.db import SessionDep
from digipersona.kit import outbound
from digipersona.kit.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery
from digipersona.models import Notification
from digipersona.notifications import preferences, push, service
from digipersona.notifications.schemas import (
    ChannelOut,
    KindOut,
    NotificationOut,
    PreferencesIn,
    PreferencesOut,
    SubscriptionIn,
    SubscriptionOut,
    WebhookIn,
    WebhookOut,
    WebhookTestOut,
)

router = APIRouter(prefix="/api/v1", tags=["notifications"])


def _out(n: Notification) -> NotificationOut:
    return NotificationOut(
        id=n.id,
        kind=n.kind,
        title=n.title,
        body=n.body,
        data=n.data or {},
        created_at=n.created_at,
        read_at=n.read_at,
    )


@router.get("/notifications", response_model=list[NotificationOut])
def notifications(
    request: Request,
    response: Response,
    principal: Reader,
    session: SessionDep,
    unread: bool = False,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> list[NotificationOut]:
    """Your latest in-app notifications in this workspace (``unread=true``: only unread).

    The body stays a plain array; when more follow, a ``Link: <...>; rel="next"`` header
    (RFC 8288) gives the next page's address with its ``cursor``.
    """
    page = service.list_for(session, principal, unread_only=unread, limit=limit, cursor=cursor)
    if page.next_cursor is not None:
        url = request.url.include_query_params(cursor=page.next_cursor)
        response.headers["Link"] = f'<{url}>; rel="next"'
    return [_out(n) for n in page.items]


@router.post("/notifications/read")
def read_all(principal: Reader, session: SessionDep) -> dict[str, int]:
    """Mark all your notifications read."""
    return {"marked": service.mark_all_read(session, principal)}


@router.post("/notifications/{notification_id}/read", response_model=NotificationOut)
def read_one(notification_id: uuid.UUID, principal: Reader, session: SessionDep) -> NotificationOut:
    """Mark one of your notifications read."""
    return _out(service.mark_read(session, principal, notification_id))


def _preferences_out(principal: Principal, matrix: preferences.Matrix) -> PreferencesOut:
    return PreferencesOut(
        preferences=matrix,
        kinds=[
            KindOut(kind=k, label=label, available=preferences.available(k, principal.role))
            for k, label in preferences.KINDS.items()
        ],
        channels=[ChannelOut(channel=c, label=label) for c, label in preferences.CHANNELS.items()],
    )


@router.get("/notifications/preferences", response_model=PreferencesOut)
def get_preferences(principal: Reader, session: SessionDep) -> PreferencesOut:
    """Your notification matrix (event kind x channel) in this workspace."""
    return _preferences_out(principal, service.get_preferences(session, principal))


@router.put("/notifications/preferences", response_model=PreferencesOut)
def put_preferences(body: PreferencesIn, principal: Reader, session: SessionDep) -> PreferencesOut:
    """Turn channels on or off per event kind; cells you do not name keep their value."""
    return _preferences_out(
        principal, service.set_preferences(session, principal, body.preferences)
    )


@router.get("/notifications/webhook", response_model=WebhookOut)
def get_webhook(principal: Admin, session: SessionDep) -> WebhookOut:
    """The workspace's notification webhook (its secret is never shown again)."""
    row = service.get_webhook(session, principal)
    if row is None:
        return WebhookOut(configured=False)
    return WebhookOut(
        configured=True, url=row.url, created_at=row.created_at, updated_at=row.updated_at
    )


@router.put("/notifications/webhook", response_model=WebhookOut)
def put_webhook(
    body: WebhookIn, principal: Admin, session: SessionDep, request: Request
) -> WebhookOut:
    """Set the webhook URL; the signing secret is made (and shown) once, or on rotate_secret."""
    row, secret = service.set_webhook(
        session,
        principal,
        body.url,
        rotate_secret=body.rotate_secret,
        cipher=request.app.state.cipher,
        settings=request.app.state.settings,
    )
    return WebhookOut(
        configured=True,
        url=row.url,
        created_at=row.created_at,
        updated_at=row.updated_at,
        secret=secret,
    )


@router.delete("/notifications/webhook", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(principal: Admin, session: SessionDep) -> None:
    """Stop sending notifications to the webhook."""
    service.clear_webhook(session, principal)


@router.post("/notifications/webhook/test", response_model=WebhookTestOut)
def test_webhook(principal: Admin, session: SessionDep, request: Request) -> WebhookTestOut:
    """Send a signed test event now; the answer says whether the receiver took it."""
    result = service.send_test(
        session, principal, request.app.state.cipher, request.app.state.settings
    )
    return WebhookTestOut(**result)


@router.get("/push/key")
def push_key(principal: Reader, request: Request) -> dict[str, str]:
    """The VAPID public key for ``pushManager.subscribe`` (applicationServerKey)."""
    return {"public_key": push.public_key(request.app.state.vapid)}


@router.post(
    "/push/subscriptions", status_code=status.HTTP_201_CREATED, response_model=SubscriptionOut
)
def subscribe(
    body: SubscriptionIn, principal: Reader, session: SessionDep, request: Request
) -> SubscriptionOut:
    """Register this device for push notifications (approval requests, failures)."""
    # Messages are sent by pywebpush (requests), outside the guarded client: the endpoint is
    # checked here, when it is saved, and not again when a message is sent.
    outbound.ensure_allowed(body.endpoint, request.app.state.settings, field="endpoint")
    row = service.subscribe(session, principal, body)
    return SubscriptionOut(
        id=row.id, endpoint=row.endpoint, device=row.device, created_at=row.created_at
    )


@router.get("/push/subscriptions", response_model=list[SubscriptionOut])
def subscriptions(principal: Reader, session: SessionDep) -> list[SubscriptionOut]:
    """Your devices."""
    rows = service.subscriptions(session, principal)
    return [
        SubscriptionOut(id=r.id, endpoint=r.endpoint, device=r.device, created_at=r.created_at)
        for r in rows
    ]


@router.delete("/push/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
def unsubscribe(subscription_id: uuid.UUID, principal: Reader, session: SessionDep) -> None:
    """Remove a device."""
    service.unsubscribe(session, principal, subscription_id)
