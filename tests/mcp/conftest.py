"""MCP fixtures: a workspace with a persona, a connection and tokens of several scopes, another
workspace, and the real app served on loopback for the Streamable HTTP transport."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from digipersona.config import Settings
from digipersona.models import Connection
from tests.conftest import Actor, serve_app
from tests.fakes.server import free_port


@dataclass
class Agents:
    persona_id: str
    connection_id: str
    x_connection_id: str
    drafts: str
    full: str
    reader: str
    outsider: str
    outsider_persona_id: str
    outsider_post_id: str


def _token(actor: Actor, name: str, scopes: list[str]) -> str:
    r = actor.post("/api/v1/tokens", json={"name": name, "scopes": scopes})
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


@pytest.fixture
def agents(owner: Actor, outsider: Actor, session_factory: Any) -> Agents:
    persona = owner.post(
        "/api/v1/personas",
        json={"name": "Dana", "timezone": "Europe/Berlin", "topics": ["hiring", "remote work"]},
    ).json()
    with session_factory.begin() as s:
        conn = Connection(
            workspace_id=owner.workspace_id,
            persona_id=uuid.UUID(persona["id"]),
            platform="webhook",
            account_id="acct-webhook",
            handle="dana-hook",
            access_token_enc="x",
        )
        x = Connection(
            workspace_id=owner.workspace_id,
            persona_id=uuid.UUID(persona["id"]),
            platform="x",
            account_id="acct-x",
            handle="dana",
            access_token_enc="x",
        )
        s.add_all([conn, x])
        s.flush()
        connection_id, x_connection_id = str(conn.id), str(x.id)
    other = outsider.post("/api/v1/personas", json={"name": "Rival"}).json()
    other_post = outsider.post(
        "/api/v1/content",
        json={"persona_id": other["id"], "body": "Their secret plan", "platforms": ["x"]},
    ).json()
    return Agents(
        persona_id=persona["id"],
        connection_id=connection_id,
        x_connection_id=x_connection_id,
        drafts=_token(owner, "claude-drafts", ["drafts"]),
        full=_token(owner, "ops-bot", ["read", "drafts", "write", "approve", "publish"]),
        reader=_token(owner, "reader-bot", ["read"]),
        outsider=_token(outsider, "rival-bot", ["drafts"]),
        outsider_persona_id=other["id"],
        outsider_post_id=other_post["id"],
    )


@pytest.fixture
def mcp_url(settings: Settings, client: Any) -> Iterator[str]:
    """A second app on the same database, served by uvicorn with its lifespan (the /mcp
    session manager runs there); ``client`` keeps serving the REST calls of the fixtures."""
    from digipersona.app import create_app

    port = free_port()
    app = create_app(settings)
    with serve_app(app, port):
        yield f"http://127.0.0.1:{port}/mcp"


def stdio_env(settings: Settings, token: str) -> dict[str, str]:
    """The environment ``digipersona mcp`` needs to open the test's database."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGIPERSONA_")}
    env.update(
        {
            "DIGIPERSONA_DATABASE_URL": settings.effective_database_url,
            "DIGIPERSONA_DATA_DIR": str(settings.data_dir),
            "DIGIPERSONA_SECRET_KEY": settings.secret_key_value(),
            "DIGIPERSONA_ENCRYPTION_KEYS": ",".join(
                k.decode() if isinstance(k, bytes) else str(k)
                for k in settings.encryption_key_list()
            ),
            "DIGIPERSONA_AUTO_MIGRATE": "false",
            "DIGIPERSONA_ENV": "test",
            "DIGIPERSONA_LOG_LEVEL": "WARNING",
            "DIGIPERSONA_API_TOKEN": token,
        }
    )
    return env


PYTHON = sys.executable
