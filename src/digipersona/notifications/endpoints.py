from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from digipersona.auth.dependencies import Reader
from digipersona.auth.schemas import Strict
from digipersona.db import SessionDep
from digipersona.exceptions import NotFound
from digipersona.models import PushSubscription
from digipersona.notifications import push
from digipersona.notifications.service import list_for

router = APIRouter(prefix="/api/v1", tags=["notifications"])


class NotificationOut(BaseModel):
    id: uuid.UUID
    kind: str
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None


class PushKeys(Strict):
    p256dh: str = Field(min_length=10, max_length=200)
    auth: str = Field(min_length=8, max_length=100)


class SubscriptionIn(Strict):
    endpoint: str = Field(min_length=10, max_length=2000, pattern=r"^https?://")
    keys: PushKeys
    device: str = Field(default="", max_length=200)


class SubscriptionOut(BaseModel):
    id: uuid.UUID
    endpoint: str
    device: str
    created_at: datetime


@router.get("/notifications", response_model=list[NotificationOut])
def notifications(principal: Reader, session: SessionDep) -> list[NotificationOut]:
    """The workspace's latest in-app notifications."""
    return [
        NotificationOut(
            id=n.id,
            kind=n.kind,
            title=n.title,
            body=n.body,
            created_at=n.created_at,
            read_at=n.read_at,
        )
        for n in list_for(session, principal.workspace_id)
    ]


@router.get("/push/key")
def push_key(principal: Reader, request: Request) -> dict[str, str]:
    """The VAPID public key for ``pushManager.subscribe`` (applicationServerKey)."""
    return {"public_key": push.public_key(request.app.state.vapid)}


@router.post(
    "/push/subscriptions", status_code=status.HTTP_201_CREATED, response_model=SubscriptionOut
)
def subscribe(body: SubscriptionIn, principal: Reader, session: SessionDep) -> SubscriptionOut:
    """Register this device for push notifications (approval requests, failures)."""
    existing = session.scalars(
        select(PushSubscription).where(
            PushSubscription.user_id == principal.user_id,
            PushSubscription.endpoint == body.endpoint,
        )
    ).first()
    row = existing or PushSubscription(
        workspace_id=principal.workspace_id, user_id=principal.user_id, endpoint=body.endpoint
    )
    row.p256dh, row.auth, row.device = body.keys.p256dh, body.keys.auth, body.device
    session.add(row)
    session.flush()
    return SubscriptionOut(
        id=row.id, endpoint=row.endpoint, device=row.device, created_at=row.created_at
    )


@router.get("/push/subscriptions", response_model=list[SubscriptionOut])
def subscriptions(principal: Reader, session: SessionDep) -> list[SubscriptionOut]:
    """Your devices."""
    rows = session.scalars(
        select(PushSubscription).where(
            PushSubscription.user_id == principal.user_id,
            PushSubscription.workspace_id == principal.workspace_id,
        )
    )
    return [
        SubscriptionOut(id=r.id, endpoint=r.endpoint, device=r.device, created_at=r.created_at)
        for r in rows
    ]


@router.delete("/push/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
def unsubscribe(subscription_id: uuid.UUID, principal: Reader, session: SessionDep) -> None:
    """Remove a device."""
    row = session.get(PushSubscription, subscription_id)
    if (
        row is None
        or row.user_id != principal.user_id
        or row.workspace_id != principal.workspace_id
    ):
        raise NotFound("No such push subscription.")
    session.delete(row)
