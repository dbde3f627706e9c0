"""Each connection's interaction poll is counted by outcome (docs/monitoring.md)."""

from __future__ import annotations

import pytest

from digipersona.kit.metrics import INTERACTION_POLLS, REGISTRY
from tests.interactions.conftest import Env


def polls() -> dict[str, float]:
    return {
        s.labels["outcome"]: s.value
        for family in REGISTRY.collect()
        if family.name == INTERACTION_POLLS._name.removesuffix("_total")
        for s in family.samples
        if s.name.endswith("_total")
    }


# Counting does not depend on the database: one backend is enough.
@pytest.mark.parametrize("backend", ["sqlite"])
def test_each_poll_is_counted_by_its_outcome(env: Env) -> None:
    env.connect_x()
    before = polls()
    report = env.poll()
    assert report.polled == 1
    (outcome,) = report.outcomes.values()
    after = polls()
    assert after[outcome] == before.get(outcome, 0) + 1
    assert sum(after.values()) == sum(before.values()) + 1
