"""The notifications domain's request and answer shapes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from digipersona.kit.schemas import Strict


class NotificationOut(BaseModel):
    id: uuid.UUID
    kind: str
    title: str
    body: str
    data: dict[str, Any]
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


class KindOut(BaseModel):
    kind: str
    label: str
    available: bool


class ChannelOut(BaseModel):
    channel: str
    label: str


class PreferencesOut(BaseModel):
    preferences: dict[str, dict[str, bool]]
    kinds: list[KindOut]
    channels: list[ChannelOut]


class PreferencesIn(Strict):
    # Checked by preferences.validate so a 422 names the unknown kind or channel.
    preferences: dict[str, Any]


class WebhookIn(Strict):
    url: str = Field(min_length=8, max_length=2000)
    rotate_secret: bool = False


class WebhookOut(BaseModel):
    configured: bool
    url: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    secret: str | None = Field(
        default=None, description="The signing secret: only in the answer that created it."
    )


class WebhookTestOut(BaseModel):
    delivered: bool
    status: int | None
    message: str


@dataclass(frozen=True)
class DeadLetter:
    """A delivery the outbox gave up on, as the Notifications page shows it."""

    channel: str
    kind: str
    title: str
    attempts: int
    reason: str
    at: datetime
