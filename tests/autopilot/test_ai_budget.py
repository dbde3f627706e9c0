"""The autopilot uses the workspace's own AI provider, with no transaction open while it answers,
and its monthly AI budget pauses autopilot drafting before it is exceeded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from digipersona.autopilot.tasks import run_due_rules
from digipersona.models import AutopilotRun, Notification
from tests.autopilot.conftest import Ctx
from tests.conftest import database_is_free
from tests.fakes.llm_openai import FakeOpenAI
from tests.fakes.server import serve

START = datetime(2026, 10, 19, 5, 0, tzinfo=UTC)
DUE = datetime(2026, 10, 19, 6, 0, tzinfo=UTC)
WEEKLY = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0"


@pytest.fixture
def workspace_model(ctx: Ctx) -> Iterator[FakeOpenAI]:
    """The owner's workspace brings its own OpenAI-compatible model (the installation has none)."""
    fake = FakeOpenAI(api_keys={"ws-key"}, models=["ws-model"])
    with serve(fake) as server:
        body = {
            "provider": "openai_compatible",
            "base_url": server.url + "/v1",
            "model": "ws-model",
            "api_key": "ws-key",
        }
        assert ctx.owner.request("PUT", "/api/v1/workspace/ai", json=body).status_code == 200
        yield fake


def _runs(ctx: Ctx) -> list[AutopilotRun]:
    with ctx.factory() as s:
        return list(s.scalars(select(AutopilotRun)))


def test_a_rule_drafts_with_the_workspace_model_holding_no_transaction(
    ctx: Ctx, workspace_model: FakeOpenAI
) -> None:
    url = ctx.settings.effective_database_url
    free: list[bool] = []
    workspace_model.while_answering = lambda: free.append(database_is_free(url))
    ctx.create_rule(START, rrule=WEEKLY, count=2)
    assert run_due_rules(ctx.factory, ctx.settings, now=DUE) == 1
    assert free == [True, True]
    assert {r.json["model"] for r in workspace_model.generation_requests()} == {"ws-model"}
    [run] = _runs(ctx)
    assert run.status == "generated" and len(run.post_ids) == 2


def test_the_budget_pauses_the_autopilot_before_it_is_exceeded(
    ctx: Ctx, workspace_model: FakeOpenAI
) -> None:
    prices = {"ws-model": {"input": 100.0, "output": 100.0}}  # ~$0.505 per estimated call
    body = {
        "provider": "openai_compatible",
        "base_url": workspace_model_url(ctx),
        "model": "ws-model",
        "monthly_budget_usd": 0.9,
        "prices": prices,
    }
    assert ctx.owner.request("PUT", "/api/v1/workspace/ai", json=body).status_code == 200
    ctx.create_rule(START, rrule=WEEKLY, count=2)  # two calls: up to ~$1.01 > $0.90
    run_due_rules(ctx.factory, ctx.settings, now=DUE)
    assert workspace_model.generation_requests() == []  # refused before the model was asked
    [run] = _runs(ctx)
    assert run.status == "failed" and "AI drafting is paused" in (run.error or "")
    assert ctx.count_posts() == 0
    with ctx.factory() as s:
        notes = s.scalars(select(Notification)).all()
        assert any("AI drafting is paused" in n.body for n in notes)


def workspace_model_url(ctx: Ctx) -> str:
    return str(ctx.owner.get("/api/v1/workspace/ai").json()["base_url"])
