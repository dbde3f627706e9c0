"""The metrics sync counts what it read, by outcome (docs/monitoring.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from digipersona.kit.metrics import REGISTRY
from tests.analytics.conftest import World


def reads(outcome: str) -> float:
    value = REGISTRY.get_sample_value("digipersona_metrics_sync_reads_total", {"outcome": outcome})
    return value or 0.0


# Counting does not depend on the database: one backend is enough.
@pytest.mark.parametrize("backend", ["sqlite"])
def test_snapshots_read_by_the_sync_are_counted(world: World) -> None:
    start = world.clock.now
    for text in ("One post", "Another post"):
        world.published("x", world.x.seed_post(world.x.me, text), at=start)
    world.sync()
    before = reads("snapshots")
    world.clock.set(start + timedelta(hours=1))
    report = world.sync()
    assert report.snapshots == 2
    assert reads("snapshots") == before + 2
