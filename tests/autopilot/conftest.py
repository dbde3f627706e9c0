"""Fixtures for the autopilot tests: a persona in Berlin with topics, and helpers to act on it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from digipersona.autopilot import service
from digipersona.autopilot.schemas import RuleCreate, TriggerCreate
from digipersona.cli.context import cli_principal
from digipersona.config import Settings
from digipersona.generation import Draft, DraftRequest, LLMConfig
from digipersona.generation.errors import AIProviderError as ProviderError
from digipersona.generation.providers.template import TemplateProvider
from digipersona.models import Connection, Post, Workspace
from tests.conftest import Actor

TOPICS = ["platform teams", "developer experience", "incident reviews"]


@dataclass
class Ctx:
    """A persona of the owner's workspace and the app's session factory and settings."""

    owner: Actor
    persona_id: uuid.UUID
    factory: sessionmaker[Session]
    settings: Settings

    def create_rule(self, now: datetime, **fields: Any) -> uuid.UUID:
        with self.factory.begin() as s:
            principal = cli_principal(s, s.get(Workspace, self.owner.workspace_id))  # type: ignore[arg-type]
            rule = service.create_rule(
                s, principal, self.persona_id, RuleCreate.model_validate(fields), now=now
            )
            return rule.id

    def create_trigger(self, now: datetime, **fields: Any) -> service.CreatedTrigger:
        with self.factory.begin() as s:
            principal = cli_principal(s, s.get(Workspace, self.owner.workspace_id))  # type: ignore[arg-type]
            return service.create_trigger(
                s,
                principal,
                self.persona_id,
                TriggerCreate.model_validate(fields),
                settings=self.settings,
                now=now,
            )

    def posts(self) -> list[Post]:
        with self.factory() as s:
            return list(
                s.scalars(
                    select(Post)
                    .where(Post.persona_id == self.persona_id)
                    .order_by(Post.created_at, Post.id)
                )
            )

    def count_posts(self) -> int:
        with self.factory() as s:
            return int(
                s.scalar(select(func.count()).where(Post.persona_id == self.persona_id)) or 0
            )

    def add_connection(self, platform: str = "webhook") -> None:
        with self.factory.begin() as s:
            s.add(
                Connection(
                    workspace_id=self.owner.workspace_id,
                    persona_id=self.persona_id,
                    platform=platform,
                    account_id=f"https://hooks.example/{uuid.uuid4().hex}",
                    access_token_enc="x",
                )
            )


def make_persona(owner: Actor, **fields: Any) -> uuid.UUID:
    body = {
        "name": f"Ada {uuid.uuid4().hex[:6]}",
        "timezone": "Europe/Berlin",
        "topics": TOPICS,
        "voice": "direct",
        **fields,
    }
    response = owner.post("/api/v1/personas", json=body)
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


@pytest.fixture
def ctx(client: Any, owner: Actor, session_factory: Any, settings: Settings) -> Ctx:
    return Ctx(owner, make_persona(owner), session_factory, settings)


class FailingProvider(TemplateProvider):
    """The template provider, failing on its ``fail_on``-th draft call (1-based) like a 502."""

    def __init__(self, fail_on: int | None) -> None:
        super().__init__(LLMConfig())
        self.fail_on = fail_on
        self.calls = 0

    def draft(self, req: DraftRequest) -> list[Draft]:
        self.calls += 1
        if self.fail_on is not None and self.calls == self.fail_on:
            raise ProviderError(
                "The AI provider answered 503 Service Unavailable.", reason="unavailable"
            )
        return super().draft(req)
