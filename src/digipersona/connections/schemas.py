from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, HttpUrl

from digipersona.kit.schemas import Strict


class ConnectIn(Strict):
    persona_id: uuid.UUID


class AuthorizationOut(BaseModel):
    authorization_url: str
    expires_at: datetime


class BlueskyConnectIn(Strict):
    persona_id: uuid.UUID
    handle: str = Field(min_length=3, max_length=253)
    app_password: str = Field(min_length=1, max_length=100)
    service_url: HttpUrl | None = None


class WebhookConnectIn(Strict):
    persona_id: uuid.UUID
    url: HttpUrl
    secret: str | None = Field(default=None, min_length=16, max_length=200)


class ConnectionUpdate(Strict):
    paused: bool | None = None
    monthly_budget_usd: float | None = Field(default=None, ge=0, le=100000)


class ConnectionOut(BaseModel):
    id: uuid.UUID
    persona_id: uuid.UUID
    platform: str
    account_id: str
    handle: str
    display_name: str
    profile_url: str | None
    state: str
    state_reason: str | None
    # What the state means to a person: active, expiring, needs_attention, paused, disconnected.
    status: str
    status_detail: str
    # Bluesky and X sessions renew themselves: their access token's expiry is routine.
    renews_automatically: bool
    # Set only for a token that cannot renew itself: reconnect before this time.
    reconnect_by: datetime | None
    # The current access token's expiry (for a renewing connection, the next routine renewal).
    expires_at: datetime | None
    scopes: list[str]
    spend_usd: float
    monthly_budget_usd: float | None
    created_at: datetime
    # Shown once, when a webhook connection generated its signing secret.
    secret: str | None = None


class PlatformStatus(BaseModel):
    platform: str
    display_name: str
    configured: bool
    hint: str
    auth_kind: str
    capabilities: dict[str, Any]
