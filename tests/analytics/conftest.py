"""A world for analytics tests: the X and LinkedIn fakes, a workspace, a persona, connections,
and published publications created directly (as the engine leaves them)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from digipersona import db
from digipersona.analytics.sync import SyncReport, sync_metrics
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
from digipersona.platforms.base import Credentials, PublishRequest
from digipersona.platforms.linkedin.provider import LinkedInProvider
from digipersona.worker.runtime import Runtime, build_runtime
from tests.conftest import make_settings
from tests.fakes.linkedin import FakeLinkedIn
from tests.fakes.x import FakeX

LINKEDIN_ANALYTICS_SCOPES = (
    "openid",
    "profile",
    "email",
    "w_member_social",
    "r_member_postAnalytics",
)


class Clock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = (start or utcnow()).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)

    def set(self, when: datetime) -> None:
        self.now = when


@dataclass
class World:
    runtime: Runtime
    clock: Clock
    x: FakeX
    linkedin: FakeLinkedIn
    cipher: TokenCipher
    workspace_id: uuid.UUID
    persona_id: uuid.UUID
    connections: dict[str, uuid.UUID] = field(default_factory=dict)
    li_token: str = ""

    def sync(self) -> SyncReport:
        return sync_metrics(
            self.runtime.factory,
            self.cipher,
            self.runtime.engine.provider,
            self.clock,
            settings=self.runtime.settings,
        )

    def add_connection(
        self,
        platform: str,
        token: str,
        scopes: tuple[str, ...],
        account: str,
        extra: dict[str, Any] | None = None,
        refresh_token: str | None = None,
    ) -> uuid.UUID:
        with db.session_scope(self.runtime.factory) as s:
            conn = Connection(
                workspace_id=self.workspace_id,
                persona_id=self.persona_id,
                platform=platform,
                account_id=account,
                handle=platform,
                access_token_enc=self.cipher.encrypt(token),
                refresh_token_enc=self.cipher.encrypt(refresh_token) if refresh_token else None,
                scopes=list(scopes),
                extra=extra or {},
            )
            s.add(conn)
            s.flush()
            self.connections[platform] = conn.id
            return conn.id

    def published(
        self,
        platform: str,
        external_id: str | None,
        *,
        body: str = "A post",
        at: datetime | None = None,
        connection_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """A published publication as the engine leaves it; returns its id."""
        at = at or self.clock.now
        with db.session_scope(self.runtime.factory) as s:
            post = Post(
                workspace_id=self.workspace_id,
                persona_id=self.persona_id,
                body=body,
                status="published",
                platforms=[platform],
            )
            s.add(post)
            s.flush()
            s.add(
                Variant(
                    workspace_id=self.workspace_id,
                    post_id=post.id,
                    platform=platform,
                    parts=[body],
                    lengths=[len(body)],
                    valid=True,
                    problems=[],
                )
            )
            pub = Publication(
                workspace_id=self.workspace_id,
                post_id=post.id,
                connection_id=connection_id or self.connections[platform],
                platform=platform,
                scheduled_at=at,
                next_attempt_at=at,
                idempotency_key=uuid.uuid4().hex,
                state="published",
                external_id=external_id,
                published_at=at,
            )
            s.add(pub)
            s.flush()
            return pub.id

    def linkedin_post(self, text: str) -> str:
        """Publish through the real LinkedIn provider against the fake; returns the URN."""
        provider = self.runtime.engine.provider("linkedin")
        assert isinstance(provider, LinkedInProvider)
        result = provider.publish(
            Credentials(access_token=self.li_token, account_id=self.linkedin.consenting.urn),
            PublishRequest(
                parts=[text], idempotency_key=uuid.uuid4().hex, created_at=self.clock.now
            ),
        )
        return result.external_id


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    clock = Clock()
    with FakeX().running() as x, FakeLinkedIn().running() as linkedin:
        x.clock = clock
        linkedin.clock = clock
        settings = make_settings(
            tmp_path,
            database_url,
            x_client_id=x.client_id,
            x_api_url=x.url,
            linkedin_client_id=linkedin.client_id,
            linkedin_client_secret=linkedin.client_secret,
            linkedin_api_url=linkedin.url,
            linkedin_oauth_url=f"{linkedin.url}/oauth/v2",
            platform_timeout_seconds=5.0,
        )
        runtime = build_runtime(settings)
        runtime.engine.clock = clock
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
            ids = (ws.id, persona.id)
        w = World(runtime, clock, x, linkedin, cipher, *ids)
        x_scopes = ("tweet.read", "tweet.write", "users.read", "offline.access", "media.write")
        # X access tokens last 2 h (the schedule spans 7 days): the sync refreshes them.
        tokens = x._new_tokens(x.me.id, set(x_scopes))
        w.add_connection(
            "x",
            tokens["access_token"],
            x_scopes,
            x.me.id,
            {"username": x.me.username},
            refresh_token=tokens["refresh_token"],
        )
        w.li_token = linkedin.issue_token(scopes=LINKEDIN_ANALYTICS_SCOPES)
        try:
            yield w
        finally:
            runtime.close()
