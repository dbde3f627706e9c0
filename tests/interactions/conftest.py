"""An app wired to the X and LinkedIn fakes, an owner with a persona and two connections."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from digipersona.app import create_app
from digipersona.config import Settings
from digipersona.interactions import polling
from digipersona.kit.crypto import TokenCipher
from digipersona.kit.time import utcnow
from digipersona.models import Connection, Post, Publication
from tests.conftest import Actor, make_settings, register_actor
from tests.fakes.linkedin import FakeLinkedIn
from tests.fakes.x import FakeX

LI_READ = ("openid", "profile", "email", "w_member_social", "r_member_social")


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Env:
    app: Any
    client: TestClient
    settings: Settings
    x: FakeX
    linkedin: FakeLinkedIn
    owner: Actor
    persona_id: str
    clock: Clock

    @property
    def factory(self) -> Any:
        return self.app.state.sessionmaker

    @property
    def cipher(self) -> TokenCipher:
        return TokenCipher(self.settings.encryption_key_list())

    def connect(
        self,
        platform: str,
        token: str,
        account_id: str,
        *,
        scopes: tuple[str, ...] = (),
        **extra: Any,
    ) -> uuid.UUID:
        with self.factory.begin() as s:
            conn = Connection(
                workspace_id=self.owner.workspace_id,
                persona_id=uuid.UUID(self.persona_id),
                platform=platform,
                account_id=account_id,
                handle=str(extra.get("username", account_id)),
                access_token_enc=self.cipher.encrypt(token),
                scopes=list(scopes),
                extra=dict(extra),
            )
            s.add(conn)
            s.flush()
            return conn.id

    def connect_x(self) -> uuid.UUID:
        return self.connect(
            "x",
            self.x.issue_token(),
            self.x.me.id,
            scopes=("tweet.read", "tweet.write", "users.read", "offline.access", "media.write"),
            username=self.x.me.username,
        )

    def connect_linkedin(self, scopes: tuple[str, ...] = LI_READ) -> uuid.UUID:
        return self.connect(
            "linkedin",
            self.linkedin.issue_token(scopes=scopes),
            self.linkedin.consenting.urn,
            scopes=scopes,
        )

    def published(self, connection_id: uuid.UUID, platform: str, external_id: str) -> uuid.UUID:
        """A post of ours already published on the connection (what people comment on)."""
        with self.factory.begin() as s:
            post = Post(
                workspace_id=self.owner.workspace_id,
                persona_id=uuid.UUID(self.persona_id),
                body="Our post",
                status="published",
                platforms=[platform],
            )
            s.add(post)
            s.flush()
            pub = Publication(
                workspace_id=self.owner.workspace_id,
                post_id=post.id,
                connection_id=connection_id,
                platform=platform,
                scheduled_at=self.clock.now,
                next_attempt_at=self.clock.now,
                idempotency_key=uuid.uuid4().hex,
                state="published",
                external_id=external_id,
                published_at=self.clock.now,
            )
            s.add(pub)
            s.flush()
            return pub.id

    def poll(self, owner: str | None = None) -> polling.PollReport:
        import httpx

        with httpx.Client() as http:
            return polling.poll_due(
                self.factory, self.settings, self.cipher, http, clock=self.clock, owner=owner
            )


@contextmanager
def running_env(database_url: str, tmp_path: Any, **overrides: Any) -> Iterator[Env]:
    """The app wired to fresh X and LinkedIn fakes; ``overrides`` are extra settings."""
    with FakeX().running() as x, FakeLinkedIn().running() as linkedin:
        settings = make_settings(
            tmp_path,
            database_url,
            linkedin_client_id=linkedin.client_id,
            linkedin_client_secret=linkedin.client_secret,
            linkedin_oauth_url=f"{linkedin.url}/oauth/v2",
            linkedin_api_url=linkedin.url,
            linkedin_version="202609",
            x_client_id=x.client_id,
            x_authorize_url=f"{x.url}/i/oauth2/authorize",
            x_api_url=x.url,
            platform_timeout_seconds=5,
            **overrides,
        )
        app = create_app(settings)
        with TestClient(app) as client:
            owner = register_actor(client, "owner", "Acme")
            persona = owner.post(
                "/api/v1/personas", json={"name": "Dana", "timezone": "Europe/Berlin"}
            ).json()
            yield Env(app, client, settings, x, linkedin, owner, persona["id"], Clock())


@pytest.fixture
def env(database_url: str, tmp_path: Any) -> Iterator[Env]:
    with running_env(database_url, tmp_path) as built:
        yield built
