"""What a connection's state means to its owner: it works, or what to do about it.

An access token's expiry is routine for a connection that renews itself (Bluesky's app-password
session and X's OAuth tokens come with a refresh token, which the engine uses before each
expiry), so it is not shown as an alarm there. Only a token that cannot be renewed (LinkedIn
without a refresh token) counts down, and only the last ``WARN_DAYS`` days are a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from digipersona.kit.time import ensure_utc
from digipersona.kit.words import plural
from digipersona.models import Connection, ConnectionState

HealthStatus = Literal["active", "expiring", "needs_attention", "paused", "disconnected"]
# The first expiry warning (connections.service.EXPIRY_WARNINGS) comes this many days before.
WARN_DAYS = 14


@dataclass(frozen=True)
class Health:
    """A connection's state in words: a short label and one sentence of detail."""

    status: HealthStatus
    label: str
    detail: str
    renews_automatically: bool
    # When a token that cannot renew itself stops working; None for the others.
    reconnect_by: datetime | None


def health(connection: Connection, now: datetime) -> Health:
    """The state that matters to the person: active, expiring, needs attention, paused, gone."""
    renews = connection.refresh_token_enc is not None
    expires = ensure_utc(connection.expires_at) if connection.expires_at else None
    reconnect_by = None if renews else expires
    state = connection.state
    if state == ConnectionState.revoked.value:
        return Health(
            "disconnected",
            "Disconnected",
            connection.state_reason or "Disconnected: its scheduled posts are held.",
            renews,
            None,
        )
    if state == ConnectionState.needs_reconnect.value:
        return Health(
            "needs_attention",
            "Needs attention",
            connection.state_reason or "Reconnect the account to keep publishing.",
            renews,
            reconnect_by,
        )
    if state == ConnectionState.paused.value:
        return Health("paused", "Paused", _paused_detail(connection), renews, reconnect_by)
    if reconnect_by is not None:
        return _countdown(reconnect_by, now)
    detail = "Signed in; it renews its session by itself." if renews else "Ready to publish."
    return Health("active", "Active", detail, renews, None)


def _countdown(expires: datetime, now: datetime) -> Health:
    left = expires - now
    day = expires.strftime("%Y-%m-%d")
    if left <= timedelta(0):
        return Health(
            "needs_attention",
            "Needs attention",
            f"The access token expired on {day}: reconnect the account to keep publishing.",
            False,
            expires,
        )
    if left <= timedelta(days=WARN_DAYS):
        days = max(1, left.days)
        return Health(
            "expiring",
            f"Expires in {plural(days, 'day')}",
            f"This platform gives no renewable token: reconnect before {day} to keep publishing.",
            False,
            expires,
        )
    return Health(
        "active",
        "Active",
        f"Valid until {day}; you are reminded {WARN_DAYS} days before.",
        False,
        expires,
    )


def _paused_detail(connection: Connection) -> str:
    reason = connection.state_reason or "Paused."
    if connection.paused_until is not None:
        until = ensure_utc(connection.paused_until).strftime("%Y-%m-%d %H:%M UTC")
        return f"{reason} Publishing resumes by itself at {until}."
    return reason
