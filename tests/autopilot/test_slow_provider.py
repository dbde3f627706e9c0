"""No transaction is open while the AI provider answers (rules, webhooks, feeds), and what changed
meanwhile is respected.

A remote model takes seconds; on SQLite a write lock held that long would stall the publishing
dispatcher and every web request. The fake model (real HTTP on loopback) probes the database
from its own thread while it "thinks".
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from digipersona import db
from digipersona.autopilot import drafting, service
from digipersona.autopilot.tasks import poll_due_feeds, run_due_rules
from digipersona.config import Settings
from digipersona.kit.http import make_http_client
from digipersona.models import AutopilotRun, GenerationRule, SeenFeedItem, Trigger
from tests.autopilot.conftest import Ctx
from tests.conftest import database_is_free
from tests.fakes.feed import FakeFeed
from tests.fakes.llm_openai import FakeOpenAI
from tests.fakes.server import serve

START = datetime(2026, 10, 19, 5, 0, tzinfo=UTC)
DUE = datetime(2026, 10, 19, 6, 0, tzinfo=UTC)
WEEKLY = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0"
EVENT = {"title": "v2.0 released", "text": "Faster builds.", "url": "https://example.com/v2"}


@pytest.fixture
def model(
    ctx: Ctx, app: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FakeOpenAI, Settings]]:
    """A fake OpenAI-compatible model, configured for the services and for the app."""
    fake = FakeOpenAI()
    with serve(fake) as server:
        settings = ctx.settings.model_copy(
            update={
                "llm_provider": "openai",
                "llm_base_url": server.url + "/v1",
                "llm_api_key": SecretStr("test-key"),
                "llm_model": "test-model",
                "llm_timeout_seconds": 10.0,
            }
        )
        monkeypatch.setattr(app.state, "settings", settings)
        yield fake, settings


def _probe(ctx: Ctx, fake: FakeOpenAI) -> list[bool]:
    seen: list[bool] = []
    url = ctx.settings.effective_database_url
    fake.while_answering = lambda: seen.append(database_is_free(url))
    return seen


def _runs(ctx: Ctx) -> list[AutopilotRun]:
    with ctx.factory() as s:
        return list(s.scalars(select(AutopilotRun).order_by(AutopilotRun.started_at)))


def test_the_probe_sees_a_held_write_lock(ctx: Ctx) -> None:
    """The probe is sound: a write unit of work that has started is seen from outside."""
    url = ctx.settings.effective_database_url
    assert database_is_free(url)
    with db.write_scope(ctx.factory) as session:
        session.execute(select(GenerationRule.id)).all()
        assert not database_is_free(url)
    assert database_is_free(url)


def test_a_rule_run_holds_no_transaction_while_the_model_answers(
    ctx: Ctx, model: tuple[FakeOpenAI, Settings]
) -> None:
    fake, settings = model
    free = _probe(ctx, fake)
    ctx.create_rule(START, rrule=WEEKLY, count=2)
    assert run_due_rules(ctx.factory, settings, now=DUE) == 1
    assert free == [True, True]
    assert ctx.count_posts() == 2
    [run] = _runs(ctx)
    assert run.status == "generated" and len(run.post_ids) == 2


def test_a_webhook_event_holds_no_transaction_while_the_model_answers(
    ctx: Ctx, model: tuple[FakeOpenAI, Settings]
) -> None:
    fake, _settings = model
    free = _probe(ctx, fake)
    hook = ctx.owner.post(
        f"/api/v1/personas/{ctx.persona_id}/autopilot/triggers",
        json={"kind": "webhook", "platforms": ["linkedin"]},
    ).json()
    r = ctx.owner.client.post(
        hook["webhook_path"], json=EVENT, headers={"Authorization": f"Bearer {hook['token']}"}
    )
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "generated"
    assert free == [True]
    assert ctx.count_posts() == 1


def test_a_feed_poll_holds_no_transaction_while_the_model_answers(
    ctx: Ctx, model: tuple[FakeOpenAI, Settings]
) -> None:
    fake, settings = model
    free = _probe(ctx, fake)
    feed = FakeFeed()
    feed.add(1, "old")
    with serve(feed) as server, make_http_client(10) as http:
        created = ctx.create_trigger(
            START, kind="feed", feed_url=server.url + "/feed.xml", poll_minutes=30
        )
        assert poll_due_feeds(ctx.factory, settings, http, now=DUE) == 1  # the baseline
        feed.add(2, "new")
        later = DUE + timedelta(minutes=30)
        assert poll_due_feeds(ctx.factory, settings, http, now=later) == 1
    assert free == [True, True]
    assert ctx.count_posts() == 2
    with ctx.factory() as s:
        drafted = s.scalars(
            select(SeenFeedItem).where(
                SeenFeedItem.trigger_id == created.trigger.id, SeenFeedItem.post_id.is_not(None)
            )
        ).all()
        assert len(drafted) == 2


def test_an_engagement_follow_up_holds_no_transaction_while_the_model_answers(
    ctx: Ctx, model: tuple[FakeOpenAI, Settings]
) -> None:
    fake, settings = model
    free = _probe(ctx, fake)
    ctx.create_trigger(START, kind="engagement")
    run = service.fire_engagement(
        ctx.factory, persona_id=ctx.persona_id, reason="A lead", text="Asked.", settings=settings
    )
    assert run is not None and run.status == "generated"
    assert free == [True] and ctx.count_posts() == 1


def test_a_feed_disabled_while_the_model_answers_keeps_its_items_unseen(
    ctx: Ctx, model: tuple[FakeOpenAI, Settings]
) -> None:
    fake, settings = model
    feed = FakeFeed()
    with serve(feed) as server, make_http_client(10) as http:
        created = ctx.create_trigger(
            START, kind="feed", feed_url=server.url + "/feed.xml", poll_minutes=30
        )
        trigger_id = created.trigger.id
        assert poll_due_feeds(ctx.factory, settings, http, now=DUE) == 1  # empty baseline

        def disable() -> None:
            with db.write_scope(ctx.factory) as s:
                trigger = s.get(Trigger, trigger_id)
                assert trigger is not None
                trigger.enabled = False

        fake.while_answering = disable
        feed.add(1, "new")
        assert poll_due_feeds(ctx.factory, settings, http, now=DUE + timedelta(minutes=30)) == 1
    assert ctx.count_posts() == 0
    last = _runs(ctx)[-1]
    assert last.status == "nothing" and "disabled or deleted" in (last.reason or "")
    with ctx.factory() as s:
        assert s.scalars(select(SeenFeedItem)).all() == []


def test_a_rule_paused_while_the_model_answers_keeps_nothing(
    ctx: Ctx, model: tuple[FakeOpenAI, Settings]
) -> None:
    fake, settings = model
    rule_id = ctx.create_rule(START, rrule=WEEKLY, count=2)

    def pause() -> None:
        with db.write_scope(ctx.factory) as s:
            rule = s.get(GenerationRule, rule_id)
            assert rule is not None
            rule.enabled = False

    fake.while_answering = pause
    assert run_due_rules(ctx.factory, settings, now=DUE) == 1
    assert ctx.count_posts() == 0
    [run] = _runs(ctx)
    assert run.status == "nothing" and run.rule_id == rule_id
    assert "paused or deleted" in (run.reason or "")


def test_a_rule_deleted_while_the_model_answers_keeps_nothing(
    ctx: Ctx, model: tuple[FakeOpenAI, Settings]
) -> None:
    fake, settings = model
    rule_id = ctx.create_rule(START, rrule=WEEKLY, count=1)

    def delete() -> None:
        with db.write_scope(ctx.factory) as s:
            s.delete(s.get(GenerationRule, rule_id))

    fake.while_answering = delete
    run = service.run_rule(ctx.factory, settings, rule_id, now=DUE)
    assert run is not None and run.status == "nothing" and run.rule_id is None
    assert ctx.count_posts() == 0 and len(_runs(ctx)) == 1


def test_a_queue_filled_while_the_model_answers_keeps_only_what_is_still_needed(
    ctx: Ctx, model: tuple[FakeOpenAI, Settings]
) -> None:
    fake, settings = model
    rule_id = ctx.create_rule(
        START, rrule=WEEKLY, mode="keep_full", count=2, platforms=["linkedin"]
    )
    filled: list[int] = []

    def someone_drafts_one() -> None:
        if not filled:  # the first request only: the rule asks for both drafts first
            r = ctx.owner.post(
                "/api/v1/content",
                json={
                    "persona_id": str(ctx.persona_id),
                    "body": "By hand.",
                    "platforms": ["linkedin"],
                },
            )
            assert r.status_code == 201, r.text
            r = ctx.owner.post(f"/api/v1/content/{r.json()['id']}/submit")
            assert r.status_code == 200, r.text
            filled.append(1)

    fake.while_answering = someone_drafts_one
    run = service.run_rule(ctx.factory, settings, rule_id, now=DUE)
    assert run is not None and run.status == "generated"
    assert len(fake.generation_requests()) == 2 and len(run.post_ids) == 1
    assert run.details["queued"] == 1 and ctx.count_posts() == 2


def test_the_same_event_delivered_twice_at_once_is_drafted_once(
    ctx: Ctx, model: tuple[FakeOpenAI, Settings]
) -> None:
    fake, settings = model
    created = ctx.create_trigger(START, kind="webhook", platforms=["linkedin"])
    trigger_id = created.trigger.id
    twins: list[str] = []

    def deliver_again() -> None:
        if not twins:
            twin = service.fire_webhook(ctx.factory, settings, trigger_id, **EVENT, now=DUE)
            twins.append(twin.status)

    fake.while_answering = deliver_again
    first = service.fire_webhook(ctx.factory, settings, trigger_id, **EVENT, now=DUE)
    assert first.status == "generated" and twins == ["nothing"]
    assert len(fake.generation_requests()) == 1 and ctx.count_posts() == 1
    with ctx.factory() as s:
        [seen] = list(s.scalars(select(SeenFeedItem)))
        assert seen.post_id == uuid.UUID(first.post_ids[0])


def test_an_event_whose_claim_was_abandoned_is_drafted_again(
    ctx: Ctx, model: tuple[FakeOpenAI, Settings]
) -> None:
    """A crash between the claim and the write must not swallow the event for ever."""
    _fake, settings = model
    created = ctx.create_trigger(START, kind="webhook", platforms=["linkedin"])
    trigger_id = created.trigger.id
    crash = RuntimeError("killed while the model answered")

    def ask_and_die(*args: Any, **kwargs: Any) -> Any:
        raise crash

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(drafting, "ask", ask_and_die)
        with pytest.raises(RuntimeError):
            service.fire_webhook(ctx.factory, settings, trigger_id, **EVENT, now=DUE)
    soon = service.fire_webhook(ctx.factory, settings, trigger_id, **EVENT, now=DUE)
    assert soon.status == "nothing"  # still claimed: it may yet be drafted
    later = DUE + service.EVENT_CLAIM_TIMEOUT
    run = service.fire_webhook(ctx.factory, settings, trigger_id, **EVENT, now=later)
    assert run.status == "generated" and ctx.count_posts() == 1
