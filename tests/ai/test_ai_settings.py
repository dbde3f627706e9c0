"""Settings -> AI through the API: a workspace's own provider, its key, test call, model list,
usage and budget, against the OpenAI fake on loopback."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from digipersona.kit.logging import redact
from digipersona.models import AISettings, AIUsage, Notification, Post
from tests.ai.conftest import KEY
from tests.conftest import Actor
from tests.fakes.llm_openai import FakeOpenAI


def _persona(owner: Actor, **extra: Any) -> str:
    body = {"name": "Ada", "topics": ["remote work"], "language": "en", **extra}
    r = owner.post("/api/v1/personas", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _configure(owner: Actor, url: str, **extra: Any) -> dict[str, Any]:
    body = {
        "provider": "openai_compatible",
        "base_url": url,
        "model": "small-model",
        "api_key": KEY,
        **extra,
    }
    r = owner.request("PUT", "/api/v1/workspace/ai", json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _generate(owner: Actor, persona_id: str, count: int = 1) -> Any:
    return owner.post(
        "/api/v1/content/generate",
        json={
            "persona_id": persona_id,
            "brief": "Why written updates beat status meetings",
            "platforms": ["linkedin"],
            "count": count,
        },
    )


def test_workspace_provider_is_used_and_key_never_shown(
    owner: Actor, fake: tuple[FakeOpenAI, str], session_factory: sessionmaker[Session]
) -> None:
    server, url = fake
    saved = _configure(owner, url)
    assert saved["source"] == "workspace" and saved["has_api_key"] is True
    shown = owner.get("/api/v1/workspace/ai")
    assert KEY not in shown.text and "api_key_enc" not in shown.text
    with session_factory() as session:
        row = session.get(AISettings, owner.workspace_id)
        assert row is not None and row.api_key_enc and KEY not in row.api_key_enc

    persona_id = _persona(owner)
    r = _generate(owner, persona_id, count=2)
    assert r.status_code == 201, r.text
    calls = server.generation_requests()
    assert len(calls) == 2
    assert {c.json["model"] for c in calls} == {"small-model"}
    # Structured output is asked for, and every call is bounded.
    assert all(c.json["response_format"]["type"] == "json_schema" for c in calls)
    assert all(0 < c.json["max_tokens"] <= 2048 for c in calls)
    usage = owner.get("/api/v1/workspace/ai/usage").json()
    assert usage["rows"][0]["calls"] == 2 and usage["rows"][0]["tokens_in"] > 0


def test_test_call_and_model_list(owner: Actor, fake: tuple[FakeOpenAI, str]) -> None:
    server, url = fake
    body = {"provider": "openai_compatible", "base_url": url, "model": "small-model"}
    bad = owner.post("/api/v1/workspace/ai/test", json={"settings": {**body, "api_key": "sk-no"}})
    assert bad.status_code == 200
    assert bad.json()["ok"] is False and "API key" in bad.json()["error"]
    good = owner.post("/api/v1/workspace/ai/test", json={"settings": {**body, "api_key": KEY}})
    assert good.json()["ok"] is True and good.json()["answer"]
    assert server.generation_requests()[-1].json["max_tokens"] <= 16
    listed = owner.post(
        "/api/v1/workspace/ai/models", json={"settings": {**body, "model": None, "api_key": KEY}}
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["models"] == ["other-model", "small-model"]
    # The saved settings are tested when none are given (the key is kept from the save).
    _configure(owner, url)
    again = owner.post("/api/v1/workspace/ai/test", json={})
    assert again.json()["ok"] is True


def test_persona_model_override(owner: Actor, fake: tuple[FakeOpenAI, str]) -> None:
    server, url = fake
    _configure(owner, url)
    persona_id = _persona(owner, ai_model="other-model")
    assert _generate(owner, persona_id).status_code == 201
    assert server.generation_requests()[-1].json["model"] == "other-model"


def test_admin_only_and_workspace_scoped(
    owner: Actor, collaborator: Actor, outsider: Actor, fake: tuple[FakeOpenAI, str]
) -> None:
    _, url = fake
    r = collaborator.request("PUT", "/api/v1/workspace/ai", json={"provider": "template"})
    assert r.status_code == 403
    assert collaborator.get("/api/v1/workspace/ai").status_code == 403
    _configure(owner, url)
    theirs = outsider.get("/api/v1/workspace/ai").json()
    assert theirs["source"] == "installation"


def test_private_base_url_refused_by_the_outbound_guard(owner: Actor, public_only: Any) -> None:
    r = owner.request(
        "PUT",
        "/api/v1/workspace/ai",
        json={"provider": "openai_compatible", "base_url": "http://127.0.0.1:9/v1", "model": "m"},
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "base_url"


def test_budget_pauses_drafting_before_it_is_exceeded(
    owner: Actor, fake: tuple[FakeOpenAI, str], session_factory: sessionmaker[Session]
) -> None:
    server, url = fake
    # A call is estimated at 3000 tokens in and 2048 out: at $100 per million each, ~$0.505.
    prices = {"small-model": {"input": 100.0, "output": 100.0}}
    _configure(owner, url, monthly_budget_usd=0.52, prices=prices)
    persona_id = _persona(owner)
    assert _generate(owner, persona_id, count=1).status_code == 201
    spent = owner.get("/api/v1/workspace/ai/usage").json()["cost_usd"]
    assert 0.016 < spent < 0.52
    before = len(server.generation_requests())
    # One more call could pass the budget: refused before any model call, budget not exceeded.
    r = _generate(owner, persona_id, count=1)
    assert r.status_code == 409, r.text
    assert "paused" in r.json()["detail"]
    assert len(server.generation_requests()) == before
    r = _generate(owner, persona_id, count=1)
    assert r.status_code == 409
    with session_factory() as session:
        notes = session.scalars(select(Notification).where(Notification.kind == "ai.budget")).all()
        assert len(notes) == 1  # once a month, not on every refusal
        assert len(session.scalars(select(Post)).all()) == 1
        assert sum(u.cost_usd for u in session.scalars(select(AIUsage))) <= 0.52


def test_ai_keys_are_redacted_from_logs() -> None:
    assert redact(f"calling with {KEY}") == "calling with [REDACTED-AI-KEY]"
    assert "abcdefghijklmnopqrstu" not in redact("x-api-key: sk-ant-api03-abcdefghijklmnopqrstu")
    assert "s3cr3tvalue" not in redact('{"apikey": "s3cr3tvalue"}')


def test_models_of_an_unreachable_provider_is_an_answer_not_a_failure(owner: Actor) -> None:
    """Like the Test call, listing the models of a server that is down says why (200, error)."""
    from tests.fakes.server import free_port

    body = {"provider": "openai_compatible", "base_url": f"http://127.0.0.1:{free_port()}/v1"}
    r = owner.post("/api/v1/workspace/ai/models", json={"settings": body})
    assert r.status_code == 200, r.text
    assert r.json()["models"] == []
    assert "reach" in r.json()["error"].lower()
