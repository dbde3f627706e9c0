"""Autopilot rule runs are counted by status (the metrics of every process, docs/monitoring.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from digipersona.autopilot.tasks import run_due_rules
from digipersona.kit.metrics import AUTOPILOT_RUNS, REGISTRY
from tests.autopilot.conftest import Ctx


def runs_by_status() -> dict[str, float]:
    return {
        s.labels["status"]: s.value
        for family in REGISTRY.collect()
        if family.name == AUTOPILOT_RUNS._name.removesuffix("_total")
        for s in family.samples
        if s.name.endswith("_total")
    }


# Counting does not depend on the database: one backend is enough.
@pytest.mark.parametrize("backend", ["sqlite"])
def test_each_rule_run_is_counted_by_its_status(ctx: Ctx) -> None:
    start = datetime(2026, 10, 19, tzinfo=UTC)
    ctx.create_rule(start, rrule="FREQ=DAILY;BYHOUR=8;BYMINUTE=0", platforms=["linkedin"])
    before = runs_by_status()
    assert run_due_rules(ctx.factory, ctx.settings, now=datetime(2026, 10, 20, tzinfo=UTC)) == 1
    after = runs_by_status()
    grown = {k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k, 0.0)}
    assert list(grown.values()) == [1.0], grown
