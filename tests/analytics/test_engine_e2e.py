"""Publish through the real engine to the X fake, then let the metrics sync read it back;
the periodic job through the worker runtime; two concurrent runs never double-read."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

from sqlalchemy import func, select

from digipersona import db
from digipersona.analytics.tasks import sync_metrics_job
from digipersona.models import MetricSnapshot, Post, Publication, Variant
from digipersona.publishing import engine as publishing
from digipersona.worker import jobs, registry, runtime
from tests.analytics.conftest import World


def scheduled_post(world: World, text: str) -> uuid.UUID:
    now = world.clock.now
    with db.session_scope(world.runtime.factory) as s:
        post = Post(
            workspace_id=world.workspace_id,
            persona_id=world.persona_id,
            body=text,
            status="scheduled",
            platforms=["x"],
        )
        s.add(post)
        s.flush()
        s.add(
            Variant(
                workspace_id=world.workspace_id,
                post_id=post.id,
                platform="x",
                parts=[text],
                lengths=[len(text)],
                valid=True,
                problems=[],
            )
        )
        pub = Publication(
            workspace_id=world.workspace_id,
            post_id=post.id,
            connection_id=world.connections["x"],
            platform="x",
            scheduled_at=now,
            next_attempt_at=now,
            idempotency_key=uuid.uuid4().hex,
        )
        s.add(pub)
        s.flush()
        return pub.id


def count_snapshots(world: World) -> int:
    with world.runtime.factory() as s:
        return int(s.scalar(select(func.count()).select_from(MetricSnapshot)) or 0)


def test_engine_publishes_then_sync_reads_it_back(world: World) -> None:
    pub_id = scheduled_post(world, "Published by the engine, measured by the sync")
    claimed = publishing.claim_due(world.runtime.engine, "w1", 10)
    assert claimed == [pub_id]
    assert publishing.execute(world.runtime.engine, pub_id, "w1") == "published"
    with world.runtime.factory() as s:
        pub = s.get(Publication, pub_id)
        assert pub is not None and pub.external_id in world.x.tweets
        external_id = pub.external_id
    world.x.set_metrics(external_id, like_count=5, impression_count=64)
    start = world.clock.now
    world.sync()  # picks the new publication up
    world.clock.set(start + timedelta(hours=1))
    assert world.sync().snapshots == 1
    with world.runtime.factory() as s:
        snap = s.scalars(select(MetricSnapshot)).one()
    assert (snap.likes, snap.impressions, snap.publication_id) == (5, 64, pub_id)


def test_periodic_job_runs_through_the_runtime(world: World) -> None:
    jobs.load_all()
    assert "analytics.sync_metrics" in registry.PERIODIC
    post_id = world.x.seed_post(world.x.me, "Read by the periodic job")
    world.published("x", post_id, at=world.clock.now - timedelta(hours=2))
    runtime.set_runtime(world.runtime)
    try:
        first = sync_metrics_job()
    finally:
        runtime.set_runtime(None)
    assert first["scheduled"] == 1 and first["snapshots"] == 1


def test_two_concurrent_runs_read_each_post_once(world: World) -> None:
    start = world.clock.now
    for n in range(12):
        post_id = world.x.seed_post(world.x.me, f"concurrent {n}")
        world.published("x", post_id, at=start - timedelta(hours=1, minutes=5))
    world.sync()  # schedules and takes the 1 h reading
    assert count_snapshots(world) == 12
    world.clock.set(start + timedelta(hours=5))  # the 6 h step is due for all twelve
    reports = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        reports.append(world.sync())

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.claimed for r in reports) == 12
    assert count_snapshots(world) == 24
