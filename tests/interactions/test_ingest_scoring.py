"""Scoring at ingest: the rules, blended with the operator's AI provider when one is set up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select

from digipersona.interactions.leads import score_lead
from digipersona.models import Interaction
from tests.fakes.llm_openai import FakeOpenAI
from tests.fakes.server import serve
from tests.interactions.conftest import Env, running_env

PRAISE = "@persona_one great post, love this!"
ASK = "@persona_one do you consult? Can we talk?"


def _llm(url: str) -> dict[str, Any]:
    return {
        "llm_provider": "openai",
        "llm_base_url": url + "/v1",
        "llm_api_key": SecretStr("test-key"),
        "llm_model": "test-model",
        "llm_timeout_seconds": 3.0,
    }


@contextmanager
def _env_with_llm(database_url: str, tmp_path: Any, url: str) -> Iterator[Env]:
    with running_env(database_url, tmp_path, **_llm(url)) as env:
        yield env


def _mentions(env: Env) -> dict[str, Interaction]:
    env.connect_x()
    carol = env.x.add_user("carol", "Carol")
    bob = env.x.add_user("bob", "Bob")
    env.x.add_mention(carol, PRAISE)
    env.x.add_mention(bob, ASK)
    report = env.poll()
    assert report.stored == 2 and list(report.outcomes.values()) == ["ok"]
    with env.factory() as s:
        return {row.text: row for row in s.scalars(select(Interaction))}


def test_an_answering_model_is_blended_with_the_rules(database_url: str, tmp_path: Any) -> None:
    fake = FakeOpenAI()
    fake.responder = lambda body: json.dumps({"score": 100, "reasons": ["sounds like a buyer"]})
    with serve(fake) as server, _env_with_llm(database_url, tmp_path, server.url) as env:
        rows = _mentions(env)
    assert len(fake.generation_requests()) == 2  # one classification per new interaction
    praise = rows[PRAISE]
    rules = score_lead(PRAISE, author_name="Carol")
    assert praise.lead_score == round((rules.score + 100) / 2)
    assert "AI: classifier score 100" in praise.lead_reasons
    assert "AI: sounds like a buyer" in praise.lead_reasons
    assert praise.is_lead == (praise.lead_score >= 50)
    prompt = fake.generation_requests()[0].prompt_text()
    assert "great post" in prompt or "consult" in prompt


def test_a_model_that_is_down_leaves_the_rules_score(database_url: str, tmp_path: Any) -> None:
    fake = FakeOpenAI()
    with serve(fake) as server:
        url = server.url
    # The server is gone: connections are refused.
    with _env_with_llm(database_url, tmp_path, url) as env:
        rows = _mentions(env)
    for text, author in ((PRAISE, "Carol"), (ASK, "Bob")):
        rules = score_lead(text, author_name=author)
        row = rows[text]
        assert (row.lead_score, row.is_lead) == (rules.score, rules.is_lead)
        assert row.lead_reasons[:-1] == rules.reasons
        assert "AI classifier unavailable" in row.lead_reasons[-1]
    assert rows[ASK].is_lead


def test_a_failing_model_is_asked_once_per_poll(database_url: str, tmp_path: Any) -> None:
    fake = FakeOpenAI()
    fake.fail_next(500, times=20)
    with serve(fake) as server, _env_with_llm(database_url, tmp_path, server.url) as env:
        rows = _mentions(env)
        asked = len(fake.generation_requests())
    # The first interaction's call (with the SDK's retries); the second is not tried again.
    assert 1 <= asked <= 3
    assert all("AI classifier unavailable" in r.lead_reasons[-1] for r in rows.values())
    assert rows[ASK].lead_score == score_lead(ASK, author_name="Bob").score


def test_the_offline_template_provider_is_not_asked(env: Env) -> None:
    rows = _mentions(env)
    assert env.settings.llm_provider == "template"
    assert not any("AI" in reason for r in rows.values() for reason in r.lead_reasons)
