"""``POST /api/v1/content/generate`` (and ``/suggestions``) hold no transaction while the AI
provider answers.

A remote model takes seconds; the request's usual ``write_scope`` would hold SQLite's write lock
(and stall the publishing dispatcher) all that time. The fake model (real HTTP on loopback)
probes the database from its own thread while it "thinks".
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from digipersona.config import Settings
from digipersona.models import Persona, Post
from tests.conftest import Actor, database_is_free
from tests.fakes.llm_openai import FakeOpenAI
from tests.fakes.server import serve


def _persona(owner: Actor) -> str:
    r = owner.post(
        "/api/v1/personas",
        json={"name": "Dana", "topics": ["platform teams"], "timezone": "Europe/Berlin"},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _generate(owner: Actor, persona_id: str) -> Any:
    return owner.post(
        "/api/v1/content/generate",
        json={
            "persona_id": persona_id,
            "brief": "Why platform teams need product managers",
            "platforms": ["linkedin", "x"],
            "count": 2,
        },
    )


@pytest.fixture
def fake(app: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    model = FakeOpenAI()
    with serve(model) as server:
        llm = {
            "llm_provider": "openai",
            "llm_base_url": server.url + "/v1",
            "llm_api_key": SecretStr("test-key"),
            "llm_model": "test-model",
            "llm_timeout_seconds": 10.0,
        }
        monkeypatch.setattr(app.state, "settings", settings.model_copy(update=llm))
        yield model


def test_generate_holds_no_transaction_while_the_model_answers(
    owner: Actor, settings: Settings, fake: FakeOpenAI, session_factory: Any
) -> None:
    persona_id = _persona(owner)
    url = settings.effective_database_url
    free: list[bool] = []
    fake.while_answering = lambda: free.append(database_is_free(url))
    r = _generate(owner, persona_id)
    assert r.status_code == 201, r.text
    items = r.json()["items"]
    assert len(items) == 2 and all(i["provider"] == "openai" for i in items)
    assert free == [True, True]  # one model request per draft, each with the database free
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Post)) == 2


def test_a_suggestion_holds_no_transaction_while_the_model_answers(
    owner: Actor, settings: Settings, fake: FakeOpenAI
) -> None:
    persona_id = _persona(owner)
    r = owner.post(
        "/api/v1/content",
        json={"persona_id": persona_id, "body": "A long post body.", "platforms": ["x"]},
    )
    assert r.status_code == 201, r.text
    url = settings.effective_database_url
    free: list[bool] = []
    fake.while_answering = lambda: free.append(database_is_free(url))
    r = owner.post(f"/api/v1/content/{r.json()['id']}/suggestions", json={"kind": "shorten"})
    assert r.status_code == 200, r.text
    assert r.json()["text"] and free == [True]


def test_a_persona_deleted_while_the_model_answers_gets_no_drafts(
    owner: Actor, fake: FakeOpenAI, session_factory: Any
) -> None:
    persona_id = _persona(owner)

    def delete_persona() -> None:
        with session_factory.begin() as s:
            persona = s.get(Persona, uuid.UUID(persona_id))
            if persona is not None:  # the model is asked once per draft
                s.delete(persona)

    fake.while_answering = delete_persona
    r = _generate(owner, persona_id)
    assert r.status_code == 404, r.text
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Post)) == 0


def test_a_failing_model_answers_as_before_and_creates_nothing(
    owner: Actor, fake: FakeOpenAI, session_factory: Any
) -> None:
    persona_id = _persona(owner)
    fake.fail_next(500, times=3)
    r = _generate(owner, persona_id)
    assert r.status_code == 502, r.text
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Post)) == 0
