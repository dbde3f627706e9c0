"""Periodic domain jobs: declared once, handed out by interval, run off the dispatcher thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from digipersona.worker import jobs, registry
from tests.publishing.conftest import World


@pytest.fixture
def clean_periodic() -> Iterator[None]:
    jobs.load_all()  # import the domains' jobs first, so restoring keeps them
    saved_tasks, saved_periodic = dict(registry.TASKS), dict(registry.PERIODIC)
    yield
    registry.TASKS.clear()
    registry.TASKS.update(saved_tasks)
    registry.PERIODIC.clear()
    registry.PERIODIC.update(saved_periodic)


def test_clock_hands_out_each_job_once_per_interval(clean_periodic: None) -> None:
    registry.PERIODIC.clear()

    @registry.periodic("test.every_ten", every_seconds=10)
    def every_ten() -> None:
        raise AssertionError("not run here")

    clock = registry.PeriodicClock()
    assert clock.due(100.0) == ["test.every_ten"]
    assert clock.due(105.0) == []
    assert clock.due(110.0) == ["test.every_ten"]
    assert registry.TASKS["test.every_ten"] is every_ten


def test_periodic_refuses_bad_intervals_and_double_declarations(clean_periodic: None) -> None:
    with pytest.raises(ValueError, match="positive"):
        registry.periodic("test.never", every_seconds=0)

    @registry.periodic("test.once", every_seconds=5)
    def once() -> None:
        return None

    with pytest.raises(ValueError, match="declared twice"):
        registry.task("test.once")(lambda: None)


def test_dispatcher_runs_periodic_jobs_off_its_thread_never_overlapping(
    world: World, clean_periodic: None
) -> None:
    from digipersona.worker.embedded import Dispatcher

    registry.PERIODIC.clear()
    release = threading.Event()
    runs: list[str] = []
    active: list[int] = [0]
    most: list[int] = [0]

    @registry.periodic("test.slow", every_seconds=1)
    def slow() -> None:
        active[0] += 1
        most[0] = max(most[0], active[0])
        runs.append(threading.current_thread().name)
        release.wait(10)
        active[0] -= 1

    @registry.periodic("test.failing", every_seconds=1)
    def failing() -> Any:
        raise RuntimeError("boom")

    dispatcher = Dispatcher(world.engine, threads=2, batch=10, poll_seconds=0.05)
    try:
        dispatcher._submit_periodic(0.0)
        dispatcher._submit_periodic(5.0)  # due again, but the first run is still going
        deadline = time.monotonic() + 10
        while not runs and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(runs) == 1 and runs[0].startswith("dp-periodic")
        release.set()
        deadline = time.monotonic() + 10
        while "test.slow" in dispatcher._periodic_running and time.monotonic() < deadline:
            time.sleep(0.01)
        dispatcher._submit_periodic(10.0)  # finished: runs again; the failing job did not stop it
        deadline = time.monotonic() + 10
        while len(runs) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(runs) == 2
        assert most[0] == 1
    finally:
        release.set()
        dispatcher.stop()
