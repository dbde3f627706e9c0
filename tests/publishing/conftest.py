from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from digipersona import db
from digipersona.kit.crypto import TokenCipher
from digipersona.kit.time import utcnow
from digipersona.models import (
    Connection,
    Membership,
    Persona,
    Post,
    Publication,
    User,
    Variant,
    Workspace,
)
from digipersona.platforms import registry
from digipersona.worker.runtime import Runtime, build_runtime
from tests.conftest import Actor
from tests.fakes import fake_provider
from tests.fakes.fake_provider import FakePlatform, FakeProvider


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class World:
    runtime: Runtime
    clock: Clock
    platform: FakePlatform
    workspace_id: uuid.UUID
    persona_id: uuid.UUID
    connection_id: uuid.UUID
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def engine(self) -> Any:
        return self.runtime.engine

    def add_post(
        self,
        *,
        at: datetime | None = None,
        parts: list[str] | None = None,
        priority: int = 0,
        connection_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        parts = parts or [f"hello {uuid.uuid4().hex[:6]}"]
        at = at or self.clock.now
        with db.session_scope(self.runtime.factory) as s:
            post = Post(
                workspace_id=self.workspace_id,
                persona_id=self.persona_id,
                body="\n\n".join(parts),
                status="scheduled",
                platforms=["fake"],
            )
            s.add(post)
            s.flush()
            s.add(
                Variant(
                    workspace_id=self.workspace_id,
                    post_id=post.id,
                    platform="fake",
                    parts=parts,
                    lengths=[len(p) for p in parts],
                    valid=True,
                    problems=[],
                )
            )
            pub = Publication(
                workspace_id=self.workspace_id,
                post_id=post.id,
                connection_id=connection_id or self.connection_id,
                platform="fake",
                scheduled_at=at,
                next_attempt_at=at,
                priority=priority,
                idempotency_key=uuid.uuid4().hex,
            )
            s.add(pub)
            s.flush()
            return pub.id

    def pub(self, publication_id: uuid.UUID) -> Publication:
        with self.runtime.factory() as s:
            row = s.get(Publication, publication_id)
            assert row is not None
            s.expunge(row)
            return row

    def connection(self) -> Connection:
        with self.runtime.factory() as s:
            row = s.get(Connection, self.connection_id)
            assert row is not None
            s.expunge(row)
            return row


@pytest.fixture
def world(database_url: str, tmp_path: Any) -> Iterator[World]:
    from tests.conftest import make_settings

    registry.register(FakeProvider)
    platform = fake_provider.reset()
    settings = make_settings(
        tmp_path, database_url, retry_base_seconds=1.0, publish_lease_seconds=60
    )
    runtime = build_runtime(settings)
    clock = Clock()
    runtime.engine.clock = clock
    platform.clock = clock
    cipher = TokenCipher(settings.encryption_key_list())
    with db.session_scope(runtime.factory) as s:
        ws = Workspace(name="W")
        user = User(email=f"{uuid.uuid4().hex[:6]}@example.com", password_hash="x")
        s.add_all([ws, user])
        s.flush()
        s.add(Membership(workspace_id=ws.id, user_id=user.id, role="owner"))
        persona = Persona(workspace_id=ws.id, name="P", timezone="Europe/Berlin")
        s.add(persona)
        s.flush()
        conn = Connection(
            workspace_id=ws.id,
            persona_id=persona.id,
            platform="fake",
            account_id="fake-1",
            handle="fake",
            access_token_enc=cipher.encrypt("token-1"),
            refresh_token_enc=cipher.encrypt("refresh-1"),
        )
        s.add(conn)
        s.flush()
        ids = (ws.id, persona.id, conn.id)
    yield World(runtime, clock, platform, *ids)
    runtime.close()


@pytest.fixture
def setup(owner: Actor, session_factory: Any) -> dict[str, Any]:
    persona = owner.post(
        "/api/v1/personas", json={"name": "Dana", "timezone": "Europe/Berlin"}
    ).json()
    with session_factory.begin() as s:
        conns = []
        for platform in ("webhook", "bluesky"):
            c = Connection(
                workspace_id=owner.workspace_id,
                persona_id=uuid.UUID(persona["id"]),
                platform=platform,
                account_id=f"acct-{platform}",
                access_token_enc="x",
            )
            s.add(c)
            conns.append(c)
        s.flush()
        ids = {c.platform: str(c.id) for c in conns}
    return {"persona": persona, "connections": ids}


def approved_post(
    session_factory: Any,
    owner: Actor,
    persona_id: str,
    platforms: list[str] | None = None,
    status: str = "approved",
) -> str:
    with session_factory.begin() as s:
        post = Post(
            workspace_id=owner.workspace_id,
            persona_id=uuid.UUID(persona_id),
            body="A post about platform teams\nwith two lines",
            status=status,
            platforms=platforms or ["webhook", "bluesky"],
        )
        s.add(post)
        s.flush()
        return str(post.id)
