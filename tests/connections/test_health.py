"""A connection shows the state that matters, never a routine token expiry as an alarm (#17)."""

from __future__ import annotations

import html
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from digipersona.connections.health import health
from digipersona.kit.time import utcnow
from digipersona.models import Connection, Persona
from tests.conftest import Actor
from tests.web.test_shell import web_login

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _conn(platform: str, **values: Any) -> Connection:
    base: dict[str, Any] = {
        "platform": platform,
        "state": "active",
        "access_token_enc": "x",
        "refresh_token_enc": None,
        "expires_at": None,
        "state_reason": None,
        "paused_until": None,
    }
    return Connection(**{**base, **values})


@pytest.mark.parametrize(
    ("connection", "status", "label", "renews"),
    [
        # Bluesky: a 2-hour access JWT and a refresh JWT; the session renews itself.
        (_conn("bluesky", refresh_token_enc="r", expires_at=NOW + timedelta(hours=2)), "active",
         "Active", True),
        (_conn("x", refresh_token_enc="r", expires_at=NOW + timedelta(minutes=5)), "active",
         "Active", True),
        (_conn("webhook"), "active", "Active", False),
        (_conn("linkedin", expires_at=NOW + timedelta(days=50)), "active", "Active", False),
        (_conn("linkedin", expires_at=NOW + timedelta(days=5, hours=1), state="expiring"),
         "expiring", "Expires in 5 days", False),
        (_conn("linkedin", expires_at=NOW + timedelta(hours=3), state="expiring"), "expiring",
         "Expires in 1 day", False),
        (_conn("linkedin", expires_at=NOW - timedelta(hours=1)), "needs_attention",
         "Needs attention", False),
        (_conn("bluesky", refresh_token_enc="r", state="needs_reconnect",
               state_reason="The app password was revoked."), "needs_attention",
         "Needs attention", True),
        (_conn("x", refresh_token_enc="r", state="paused", state_reason="Rate limited.",
               paused_until=NOW + timedelta(minutes=15)), "paused", "Paused", True),
        (_conn("webhook", state="revoked"), "disconnected", "Disconnected", False),
    ],
)  # fmt: skip
def test_health_by_platform_and_state(
    connection: Connection, status: str, label: str, renews: bool
) -> None:
    state = health(connection, NOW)
    assert (state.status, state.label, state.renews_automatically) == (status, label, renews)
    if renews:
        assert state.reconnect_by is None and "expire" not in state.detail.lower()


def test_bluesky_session_reads_active_on_the_page_and_in_the_api(
    client: Any, owner: Actor, session_factory: Any
) -> None:
    persona = owner.post(
        "/api/v1/personas", json={"name": "Dana", "timezone": "Europe/Berlin"}
    ).json()
    with session_factory() as s:
        row = s.get(Persona, uuid.UUID(persona["id"]))
        s.add(
            Connection(
                workspace_id=row.workspace_id,
                persona_id=row.id,
                platform="bluesky",
                account_id="did:plc:dana",
                handle="dana.bsky.social",
                access_token_enc="x",
                refresh_token_enc="y",
                expires_at=utcnow() + timedelta(hours=2),
            )
        )
        s.commit()
    [answer] = owner.get("/api/v1/connections").json()
    assert answer["status"] == "active" and answer["renews_automatically"] is True
    assert answer["reconnect_by"] is None
    web_login(client, owner.email)
    page = html.unescape(client.get("/connections").text)
    assert "dana.bsky.social" in page
    assert "expires" not in page.lower()
    assert 'class="conn health-active"' in page and '<span class="badge">Active</span>' in page
