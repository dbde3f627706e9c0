"""The engagement trigger: other domains call ``fire_engagement``; opt-in per persona."""

from __future__ import annotations

from datetime import UTC, datetime

from digipersona.autopilot import service
from tests.autopilot.conftest import Ctx, FailingProvider

NOW = datetime(2026, 10, 19, 6, 0, tzinfo=UTC)


def _fire(ctx: Ctx, **kwargs: object) -> object:
    run = service.fire_engagement(
        ctx.factory,
        persona_id=ctx.persona_id,
        reason="Lead score 87 on a comment",
        text="Asked how we run platform teams across time zones.",
        url="https://www.linkedin.com/feed/update/urn:li:share:1",
        settings=ctx.settings,
        now=NOW,
        **kwargs,  # type: ignore[arg-type]
    )
    return None if run is None else (run.status, list(run.post_ids), run.details)


def test_nothing_happens_without_an_enabled_engagement_trigger(ctx: Ctx) -> None:
    assert _fire(ctx) is None
    created = ctx.create_trigger(NOW, kind="engagement", enabled=False)
    assert created.token is None
    assert _fire(ctx) is None
    assert ctx.count_posts() == 0


def test_an_opted_in_persona_gets_a_follow_up_draft(ctx: Ctx) -> None:
    ctx.create_trigger(NOW, kind="engagement", platforms=["bluesky"])
    result = _fire(ctx)
    assert result is not None
    status, post_ids, details = result  # type: ignore[misc]
    assert status == "generated" and len(post_ids) == 1
    assert details["reason"] == "Lead score 87 on a comment"
    [post] = ctx.posts()
    assert post.platforms == ["bluesky"] and post.status == "in_review"
    assert post.link_url == "https://www.linkedin.com/feed/update/urn:li:share:1"
    r = ctx.owner.get(f"/api/v1/personas/{ctx.persona_id}/autopilot/runs")
    assert r.json()["items"][0]["source"] == "engagement"


def test_a_failing_provider_records_the_run_and_creates_nothing(ctx: Ctx) -> None:
    ctx.create_trigger(NOW, kind="engagement")
    result = _fire(ctx, provider=FailingProvider(1))
    assert result is not None and result[0] == "failed"  # type: ignore[index]
    assert ctx.count_posts() == 0
