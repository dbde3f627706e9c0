"""A post well above the persona's median engagement fires the engagement trigger, once."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from digipersona import db
from digipersona.autopilot import engagement
from digipersona.autopilot import service as autopilot
from digipersona.autopilot.schemas import TriggerCreate
from digipersona.cli.context import cli_principal
from digipersona.models import AutopilotRun, MetricSnapshot, Notification, Post, Workspace
from tests.analytics.conftest import World


def _trigger(world: World, enabled: bool = True) -> None:
    with db.session_scope(world.runtime.factory) as s:
        principal = cli_principal(s, s.get(Workspace, world.workspace_id))  # type: ignore[arg-type]
        autopilot.create_trigger(
            s,
            principal,
            world.persona_id,
            TriggerCreate(kind="engagement", platforms=["x"], enabled=enabled),
            now=world.clock.now,
        )


def _history(world: World, engagements: list[int], *, stage: int = 0) -> None:
    """Earlier X posts of the persona with one reading each at ``stage``."""
    for n, value in enumerate(engagements):
        pub = world.published(
            "x", f"old-{uuid.uuid4().hex}", at=world.clock.now - timedelta(days=30)
        )
        with db.session_scope(world.runtime.factory) as s:
            s.add(
                MetricSnapshot(
                    workspace_id=world.workspace_id,
                    publication_id=pub,
                    taken_at=world.clock.now - timedelta(days=30 - n),
                    stage=stage,
                    likes=value,
                    reposts=0,
                    replies=0,
                    quotes=None,
                )
            )
    # The old posts' schedules are over: only the new post is read in these tests.
    with db.session_scope(world.runtime.factory) as s:
        from digipersona.analytics import repository

        repository.ensure_schedules(s, world.clock.now)
        from digipersona.models import MetricsSchedule

        for row in s.scalars(select(MetricsSchedule)):
            row.stopped_reason = "finished"
            row.next_sync_at = None


def _runs(world: World) -> list[AutopilotRun]:
    with world.runtime.factory() as s:
        return list(s.scalars(select(AutopilotRun).where(AutopilotRun.source == "engagement")))


def _new_post(world: World, **counts: int) -> tuple[str, uuid.UUID]:
    external = world.x.seed_post(world.x.me, "Our platform team post that took off")
    pub = world.published("x", external, body="Our platform team post that took off")
    world.x.set_metrics(external, **counts)
    world.sync()  # schedules it
    return external, pub


def _spike_of(world: World, pub: uuid.UUID) -> Any:
    with world.runtime.factory() as s:
        from digipersona.models import Publication

        post_id = s.get(Publication, pub).post_id  # type: ignore[union-attr]
        return s.get(Post, post_id).engagement_spike_at  # type: ignore[union-attr]


def test_three_times_the_median_fires_once_per_post(world: World) -> None:
    _trigger(world)
    _history(world, [2, 3, 3, 4, 5])  # median 3 -> threshold 9
    start = world.clock.now
    external, pub = _new_post(world, like_count=6, retweet_count=2, reply_count=1)  # 9

    world.clock.set(start + timedelta(hours=1))
    report = world.sync()
    assert report.snapshots == 1 and report.spikes == 1
    [run] = _runs(world)
    assert run.status == "generated" and len(run.post_ids) == 1
    assert "3.0x the persona's median of 3 (5 posts)" in run.details["reason"]
    assert _spike_of(world, pub) == start + timedelta(hours=1)

    # Later readings stay high: the post never fires again.
    world.x.set_metrics(external, like_count=60)
    world.clock.set(start + timedelta(hours=6))
    report = world.sync()
    assert report.snapshots == 1 and report.spikes == 0
    assert len(_runs(world)) == 1


def test_below_the_threshold_or_too_little_history_fires_nothing(world: World) -> None:
    _trigger(world)
    _history(world, [2, 3, 3, 4])  # four posts: not enough to compare with
    start = world.clock.now
    _external, pub = _new_post(world, like_count=50)
    world.clock.set(start + timedelta(hours=1))
    assert world.sync().spikes == 0
    assert _runs(world) == [] and _spike_of(world, pub) is None

    _history(world, [3])  # five now (median 3): 8 is below 9
    _external, pub = _new_post(world, like_count=8)
    world.clock.set(start + timedelta(hours=2, minutes=1))
    assert world.sync().spikes == 0
    assert _runs(world) == [] and _spike_of(world, pub) is None


def test_other_stages_and_a_zero_median(world: World) -> None:
    _trigger(world)
    _history(world, [40, 40, 40, 40, 40], stage=2)  # another stage: not comparable
    _history(world, [0, 0, 0, 1, 0])  # median 0 counts as 1 -> threshold 3
    start = world.clock.now
    _external, _pub = _new_post(world, like_count=3)
    world.clock.set(start + timedelta(hours=1))
    assert world.sync().spikes == 1
    assert len(_runs(world)) == 1


def test_a_persona_without_the_trigger_records_the_spike_but_drafts_nothing(
    world: World,
) -> None:
    _trigger(world, enabled=False)
    _history(world, [1, 1, 1, 1, 1])
    start = world.clock.now
    _external, pub = _new_post(world, like_count=30)
    world.clock.set(start + timedelta(hours=1))
    assert world.sync().spikes == 1
    assert _runs(world) == [] and _spike_of(world, pub) is not None


def test_a_failing_trigger_does_not_break_the_sync(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _trigger(world)
    _history(world, [1, 1, 1, 1, 1])

    def broken(factory: Any, **kwargs: Any) -> None:
        # The trigger works in its own units of work: half-written work must be undone.
        with db.write_scope(factory) as session:
            session.add(
                Notification(
                    workspace_id=world.workspace_id, kind="half.written", title="x", body=""
                )
            )
            session.flush()
            raise RuntimeError("boom")

    monkeypatch.setattr(engagement, "fire_engagement", broken)
    start = world.clock.now
    _external, pub = _new_post(world, like_count=30)
    world.clock.set(start + timedelta(hours=1))
    report = world.sync()
    assert report.snapshots == 1 and report.spikes == 1 and report.failed == 0
    with world.runtime.factory() as s:
        assert "half.written" not in list(s.scalars(select(Notification.kind)))
        assert (
            len(list(s.scalars(select(MetricSnapshot).where(MetricSnapshot.publication_id == pub))))
            == 1
        )
    # Recorded as fired: a broken trigger is not retried on every reading.
    assert _spike_of(world, pub) is not None
