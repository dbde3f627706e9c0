"""Generation rules: time travel across DST, rotation, keep-the-queue-full, failures, claims."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from digipersona.autopilot import planning
from digipersona.autopilot.repository import RuleRepository
from digipersona.autopilot.tasks import run_due_rules
from digipersona.models import AutopilotRun, GenerationRule, Post, Publication
from tests.autopilot.conftest import TOPICS, Ctx, FailingProvider, make_persona

# Monday 19 Oct 2026, 07:00 Berlin summer time (05:00 UTC); clocks go back on Sun 25 Oct.
START = datetime(2026, 10, 19, 5, 0, tzinfo=UTC)
WEEKLY = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0"


def _runs(ctx: Ctx) -> list[AutopilotRun]:
    with ctx.factory() as s:
        return list(
            s.scalars(
                select(AutopilotRun)
                .where(AutopilotRun.persona_id == ctx.persona_id)
                .order_by(AutopilotRun.started_at, AutopilotRun.created_at)
            )
        )


def _rule(ctx: Ctx, rule_id: object) -> GenerationRule:
    with ctx.factory() as s:
        rule = s.get(GenerationRule, rule_id)
        assert rule is not None
        return rule


def test_next_run_keeps_local_time_across_dst() -> None:
    # 08:00 Berlin is 06:00 UTC in summer and 07:00 UTC in winter.
    first = planning.next_run_after(WEEKLY, "Europe/Berlin", START)
    assert first == datetime(2026, 10, 19, 6, 0, tzinfo=UTC)
    second = planning.next_run_after(WEEKLY, "Europe/Berlin", first)  # type: ignore[arg-type]
    assert second == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)
    # A rule at 02:30 on the spring-forward Sunday moves forward by the gap (03:30 local).
    spring = planning.next_run_after(
        "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=30",
        "Europe/Berlin",
        datetime(2026, 3, 23, tzinfo=UTC),
    )
    assert spring == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # ... and at 02:30 on the fall-back Sunday it takes the first of the two 02:30s (CEST).
    fall = planning.next_run_after(
        "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=30",
        "Europe/Berlin",
        datetime(2026, 10, 19, tzinfo=UTC),
    )
    assert fall == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_weekly_rule_drafts_on_time_across_dst(ctx: Ctx) -> None:
    rule_id = ctx.create_rule(START, rrule=WEEKLY, count=2, platforms=["linkedin"])
    assert _rule(ctx, rule_id).next_run_at == datetime(2026, 10, 19, 6, 0, tzinfo=UTC)

    # Just before 08:00 local nothing happens.
    assert (
        run_due_rules(ctx.factory, ctx.settings, now=datetime(2026, 10, 19, 5, 59, tzinfo=UTC)) == 0
    )
    assert ctx.count_posts() == 0

    ran = run_due_rules(ctx.factory, ctx.settings, now=datetime(2026, 10, 19, 6, 0, 30, tzinfo=UTC))
    assert ran == 1
    posts = ctx.posts()
    assert len(posts) == 2
    assert {p.status for p in posts} == {"in_review"}
    assert all(p.platforms == ["linkedin"] for p in posts)
    # The next run is next Monday 08:00 local, which is winter time by then.
    assert _rule(ctx, rule_id).next_run_at == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)
    # Running again the same day does nothing: it is not due.
    assert (
        run_due_rules(ctx.factory, ctx.settings, now=datetime(2026, 10, 19, 9, 0, tzinfo=UTC)) == 0
    )
    # A week later, at 07:00 UTC (08:00 CET), the second run.
    assert (
        run_due_rules(ctx.factory, ctx.settings, now=datetime(2026, 10, 26, 6, 59, tzinfo=UTC)) == 0
    )
    assert (
        run_due_rules(ctx.factory, ctx.settings, now=datetime(2026, 10, 26, 7, 0, tzinfo=UTC)) == 1
    )
    assert ctx.count_posts() == 4
    runs = _runs(ctx)
    assert [r.status for r in runs] == ["generated", "generated"]
    assert all(len(r.post_ids) == 2 for r in runs)
    assert runs[0].details["drafts"][0]["status"] == "in_review"


def test_a_due_rule_is_claimed_once(ctx: Ctx) -> None:
    rule_id = ctx.create_rule(START, rrule=WEEKLY)
    now = datetime(2026, 10, 19, 6, 1, tzinfo=UTC)
    with ctx.factory.begin() as s:
        assert RuleRepository(s).claim(rule_id, now, now + timedelta(minutes=10))
    with ctx.factory.begin() as s:
        assert not RuleRepository(s).claim(rule_id, now, now + timedelta(minutes=10))
    # The holder's lease makes the rule invisible to the next scheduler pass.
    assert run_due_rules(ctx.factory, ctx.settings, now=now) == 0
    assert ctx.count_posts() == 0


def test_topics_and_structures_never_repeat_back_to_back(ctx: Ctx) -> None:
    ctx.create_rule(START, rrule="FREQ=DAILY;BYHOUR=8;BYMINUTE=0", count=2)
    now = datetime(2026, 10, 19, 6, 0, tzinfo=UTC)
    for _day in range(6):
        assert run_due_rules(ctx.factory, ctx.settings, now=now) == 1
        now += timedelta(days=1)
    posts = ctx.posts()
    assert len(posts) == 12
    topics = [p.topic for p in posts]
    structures = [p.structure for p in posts]
    for before, after in itertools.pairwise(posts):
        assert before.topic != after.topic, topics
        assert before.structure != after.structure, structures
    # Every topic comes round equally often.
    assert sorted(topics) == sorted(TOPICS * 4)


def test_rule_topics_override_the_persona(ctx: Ctx) -> None:
    ctx.create_rule(START, rrule=WEEKLY, count=3, topics=["kubernetes", "on-call"])
    run_due_rules(ctx.factory, ctx.settings, now=datetime(2026, 10, 19, 6, 0, tzinfo=UTC))
    assert [p.topic for p in ctx.posts()] == ["kubernetes", "on-call", "kubernetes"]


def test_keep_the_queue_full_drafts_only_what_is_missing(ctx: Ctx) -> None:
    # One post already waits in review.
    r = ctx.owner.post(
        "/api/v1/content",
        json={
            "persona_id": str(ctx.persona_id),
            "body": "Already here.",
            "platforms": ["linkedin"],
        },
    )
    assert ctx.owner.post(f"/api/v1/content/{r.json()['id']}/submit").status_code == 200
    ctx.create_rule(START, rrule="FREQ=DAILY;BYHOUR=8;BYMINUTE=0", mode="keep_full", count=3)
    run_due_rules(ctx.factory, ctx.settings, now=datetime(2026, 10, 19, 6, 0, tzinfo=UTC))
    assert ctx.count_posts() == 3  # 1 existing + 2 drafted
    run = _runs(ctx)[-1]
    assert run.status == "generated"
    assert run.details["queued"] == 1 and run.details["target"] == 3
    assert len(run.post_ids) == 2

    # Next day the queue is still full: nothing is drafted, and the run says why.
    run_due_rules(ctx.factory, ctx.settings, now=datetime(2026, 10, 20, 6, 0, tzinfo=UTC))
    assert ctx.count_posts() == 3
    run = _runs(ctx)[-1]
    assert run.status == "nothing"
    assert "queue is full" in (run.reason or "")

    # A rejected post leaves a gap that the next run fills.
    rejected = ctx.posts()[0]
    assert (
        ctx.owner.post(
            f"/api/v1/content/{rejected.id}/reject", json={"reason": "off-topic"}
        ).status_code
        == 200
    )
    run_due_rules(ctx.factory, ctx.settings, now=datetime(2026, 10, 21, 6, 0, tzinfo=UTC))
    assert ctx.count_posts() == 4
    assert len(_runs(ctx)[-1].post_ids) == 1


def test_keep_full_counts_only_posts_scheduled_within_the_window(ctx: Ctx) -> None:
    # Far-future scheduled posts do not fill the next slots.
    persona_id = make_persona(ctx.owner, approval_policy="auto_approve", name="Auto")
    ctx.persona_id = persona_id
    ctx.add_connection("webhook")
    ctx.create_rule(
        START,
        rrule="FREQ=DAILY;BYHOUR=8;BYMINUTE=0",
        mode="keep_full",
        count=2,
        platforms=["webhook"],
        destination="slots",
    )
    run_due_rules(ctx.factory, ctx.settings, now=datetime(2026, 10, 19, 6, 0, tzinfo=UTC))
    posts = ctx.posts()
    assert len(posts) == 2
    assert {p.status for p in posts} == {"scheduled"}
    with ctx.factory() as s:
        pubs = list(
            s.scalars(select(Publication).where(Publication.post_id.in_([p.id for p in posts])))
        )
    # Scheduled into the persona's next free slots (Tue and Thu 06:30 Berlin by default).
    assert sorted(p.slot_at for p in pubs) == [
        datetime(2026, 10, 20, 4, 30, tzinfo=UTC),
        datetime(2026, 10, 22, 4, 30, tzinfo=UTC),
    ]
    # The next day both still wait in the next 2 slots: nothing to draft.
    run_due_rules(ctx.factory, ctx.settings, now=datetime(2026, 10, 20, 3, 0, tzinfo=UTC))
    assert ctx.count_posts() == 2


def test_provider_failure_keeps_nothing_and_retries(ctx: Ctx) -> None:
    rule_id = ctx.create_rule(START, rrule=WEEKLY, count=3)
    due = datetime(2026, 10, 19, 6, 0, tzinfo=UTC)
    failing = FailingProvider(fail_on=2)
    assert run_due_rules(ctx.factory, ctx.settings, now=due, provider=failing) == 1
    assert failing.calls == 2
    # The first draft was made before the failure; it was rolled back with the run.
    assert ctx.count_posts() == 0
    run = _runs(ctx)[-1]
    assert run.status == "failed"
    assert "503" in (run.error or "")
    assert run.post_ids == []
    rule = _rule(ctx, rule_id)
    assert rule.failures == 1
    assert rule.next_run_at == due + timedelta(minutes=15)
    # No audit trail or notification of posts that do not exist.
    with ctx.factory() as s:
        assert s.scalars(select(Post)).first() is None

    # The retry, 15 minutes later, succeeds with the same plan.
    assert (
        run_due_rules(
            ctx.factory,
            ctx.settings,
            now=due + timedelta(minutes=15),
            provider=FailingProvider(None),
        )
        == 1
    )
    assert ctx.count_posts() == 3
    assert _runs(ctx)[-1].status == "generated"
    rule = _rule(ctx, rule_id)
    assert rule.failures == 0
    assert rule.next_run_at == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)


def test_repeated_failures_back_off_but_not_past_the_next_occurrence(ctx: Ctx) -> None:
    rule_id = ctx.create_rule(START, rrule="FREQ=HOURLY;BYMINUTE=0")
    now = datetime(2026, 10, 19, 6, 0, tzinfo=UTC)
    run_due_rules(ctx.factory, ctx.settings, now=now, provider=FailingProvider(1))
    assert _rule(ctx, rule_id).next_run_at == now + timedelta(minutes=15)
    now += timedelta(minutes=15)
    run_due_rules(ctx.factory, ctx.settings, now=now, provider=FailingProvider(1))
    assert _rule(ctx, rule_id).next_run_at == now + timedelta(minutes=30)
    now += timedelta(minutes=30)
    run_due_rules(ctx.factory, ctx.settings, now=now, provider=FailingProvider(1))
    # 60 minutes would pass the next hourly occurrence at 08:00 UTC.
    assert _rule(ctx, rule_id).next_run_at == datetime(2026, 10, 19, 7, 0, tzinfo=UTC)
    assert [r.status for r in _runs(ctx)] == ["failed", "failed", "failed"]


def test_two_schedulers_at_once_run_a_rule_once(ctx: Ctx) -> None:
    import threading

    ctx.create_rule(START, rrule=WEEKLY, count=1)
    due = datetime(2026, 10, 19, 6, 0, tzinfo=UTC)
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def scheduler() -> None:
        try:
            barrier.wait()
            results.append(run_due_rules(ctx.factory, ctx.settings, now=due))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert sorted(results) == [0, 1]
    assert ctx.count_posts() == 1
    assert len(_runs(ctx)) == 1


def test_an_http_llm_failing_mid_run_keeps_nothing(ctx: Ctx) -> None:
    from pydantic import SecretStr

    from digipersona.models import Notification
    from tests.fakes.llm_openai import FakeOpenAI
    from tests.fakes.server import serve

    fake = FakeOpenAI()
    with serve(fake) as server:
        settings = ctx.settings.model_copy(
            update={
                "llm_provider": "openai",
                "llm_base_url": server.url + "/v1",
                "llm_api_key": SecretStr("test-key"),
                "llm_model": "test-model",
                "llm_timeout_seconds": 5.0,
            }
        )
        rule_id = ctx.create_rule(START, rrule=WEEKLY, count=2)
        due = datetime(2026, 10, 19, 6, 0, tzinfo=UTC)
        fake.delay_next(0)  # the first draft is answered ...
        fake.fail_next(500, times=3)  # ... the second fails, retries included
        run_due_rules(ctx.factory, settings, now=due)
        assert len(fake.generation_requests()) == 4
        assert ctx.count_posts() == 0
        [run] = _runs(ctx)
        assert run.status == "failed" and "AIProviderError" in (run.error or "")
        with ctx.factory() as s:
            [note] = list(
                s.scalars(select(Notification).where(Notification.kind == "autopilot.failed"))
            )
            assert "could not draft" in note.title
        # The retry, with the model answering again.
        run_due_rules(ctx.factory, settings, now=_rule(ctx, rule_id).next_run_at)  # type: ignore[arg-type]
        assert ctx.count_posts() == 2
        assert _runs(ctx)[-1].status == "generated"


def test_the_periodic_jobs_are_registered_and_use_the_runtime(ctx: Ctx) -> None:
    from digipersona.autopilot import tasks
    from digipersona.worker import jobs, registry, runtime

    jobs.load_all()
    assert registry.PERIODIC["autopilot.run_due_rules"].every_seconds == 60
    assert registry.PERIODIC["autopilot.poll_feeds"].every_seconds == 60
    ctx.create_rule(datetime.now(UTC) - timedelta(days=8), rrule="FREQ=DAILY;BYHOUR=8")
    with ctx.factory.begin() as s:
        for rule in s.scalars(select(GenerationRule)):
            rule.next_run_at = datetime.now(UTC) - timedelta(minutes=1)
    rt = runtime.build_runtime(ctx.settings, factory=ctx.factory)
    runtime.set_runtime(rt)
    try:
        assert registry.TASKS["autopilot.run_due_rules"]() == 1
        assert tasks.poll_feeds_job() == 0
    finally:
        runtime.set_runtime(None)
        rt.http.close()
    assert ctx.count_posts() == 1


def test_a_crashing_rule_does_not_stop_the_others(
    ctx: Ctx, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from digipersona.autopilot import service

    first = ctx.create_rule(START, rrule=WEEKLY, count=1)
    second = ctx.create_rule(START, rrule=WEEKLY, count=1)
    real = service.run_rule

    def crash_first(factory: Any, settings: Any, rule_id: Any, **kw: Any) -> Any:
        if rule_id == first:
            raise RuntimeError("database went away")
        return real(factory, settings, rule_id, **kw)

    monkeypatch.setattr(service, "run_rule", crash_first)
    due = datetime(2026, 10, 19, 6, 0, tzinfo=UTC)
    assert run_due_rules(ctx.factory, ctx.settings, now=due) == 1
    assert ctx.count_posts() == 1
    assert "crashed" in caplog.text
    # The crashed rule keeps its lease and is picked up again when it ends.
    assert _rule(ctx, first).next_run_at == due + timedelta(minutes=10)
    assert _rule(ctx, second).next_run_at == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)
    monkeypatch.setattr(service, "run_rule", real)
    assert run_due_rules(ctx.factory, ctx.settings, now=due + timedelta(minutes=10)) == 1
    assert ctx.count_posts() == 2


def test_a_new_persona_time_zone_re_anchors_the_rule(ctx: Ctx) -> None:
    rule_id = ctx.create_rule(START, rrule=WEEKLY)
    assert _rule(ctx, rule_id).next_run_at == datetime(2026, 10, 19, 6, 0, tzinfo=UTC)
    r = ctx.owner.patch(f"/api/v1/personas/{ctx.persona_id}", json={"timezone": "America/New_York"})
    assert r.status_code == 200, r.text
    # At the old time (08:00 Berlin) the rule does not run; it moves to 08:00 New York.
    run_due_rules(ctx.factory, ctx.settings, now=datetime(2026, 10, 19, 6, 0, tzinfo=UTC))
    assert ctx.count_posts() == 0
    rule = _rule(ctx, rule_id)
    assert rule.timezone == "America/New_York"
    assert rule.next_run_at == datetime(2026, 10, 19, 12, 0, tzinfo=UTC)
    run_due_rules(ctx.factory, ctx.settings, now=datetime(2026, 10, 19, 12, 0, tzinfo=UTC))
    assert ctx.count_posts() == 1


def test_drafts_that_cannot_go_further_stay_put_and_the_run_says_why(ctx: Ctx) -> None:
    # Auto-approve persona without any connection: approved, not scheduled.
    ctx.persona_id = make_persona(ctx.owner, approval_policy="auto_approve", name="Solo")
    ctx.create_rule(START, rrule=WEEKLY, platforms=["linkedin"], destination="slots")
    run_due_rules(ctx.factory, ctx.settings, now=datetime(2026, 10, 19, 6, 0, tzinfo=UTC))
    [post] = ctx.posts()
    assert post.status == "approved"
    with ctx.factory() as s:
        assert s.scalars(select(Publication)).first() is None
    [note] = _runs(ctx)[-1].details["drafts"]
    assert "Approved but not scheduled" in note["note"] and "connect" in note["note"]


def test_a_guardrail_refusal_leaves_a_draft_with_the_reason(ctx: Ctx) -> None:
    ctx.persona_id = make_persona(ctx.owner, name="Careful", blocked_domains=["blocked.example"])
    created = ctx.create_trigger(START, kind="webhook")
    r = ctx.owner.client.post(
        f"/api/v1/personas/{ctx.persona_id}/triggers/{created.trigger.id}",
        json={"title": "Leak", "url": "https://blocked.example/post"},
        headers={"Authorization": f"Bearer {created.token}"},
    )
    assert r.status_code == 202 and r.json()["status"] == "generated"
    [post] = ctx.posts()
    assert post.status == "draft"
    assert "blocked.example" in r.json()["details"]["drafts"][0]["note"]
