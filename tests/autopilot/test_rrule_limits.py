"""RRULEs that never advance or never occur answer 422 at once; the next write still works.

Before these checks, ``FREQ=WEEKLY;INTERVAL=0`` spun forever with the database write lock held
and wedged every later write. Each request runs in a thread with a generous bound so that a
regression fails the test instead of hanging the suite.
"""

from __future__ import annotations

import pytest

from tests.autopilot.conftest import Ctx
from tests.scheduling.test_rrules import finishes

WEDGING_RULES = [
    "FREQ=WEEKLY;INTERVAL=0",
    "FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=DAILY;INTERVAL=0;BYHOUR=9",
]


@pytest.mark.parametrize("rule", WEDGING_RULES)
def test_autopilot_rule_answers_422_and_a_write_right_after_succeeds(ctx: Ctx, rule: str) -> None:
    rules = f"/api/v1/personas/{ctx.persona_id}/autopilot/rules"
    (r,) = finishes(lambda: ctx.owner.post(rules, json={"rrule": rule}))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "rrule" in r.text
    (after,) = finishes(lambda: ctx.owner.post(rules, json={"rrule": "FREQ=WEEKLY;BYDAY=MO"}))
    assert after.status_code == 201, after.text
    (patch,) = finishes(
        lambda: ctx.owner.patch(f"{rules}/{after.json()['id']}", json={"rrule": rule})
    )
    assert patch.status_code == 422, patch.text


@pytest.mark.parametrize("rule", WEDGING_RULES)
def test_persona_slots_answer_422_and_a_write_right_after_succeeds(ctx: Ctx, rule: str) -> None:
    (r,) = finishes(
        lambda: ctx.owner.post("/api/v1/personas", json={"name": "Ana", "slots": [rule]})
    )
    assert r.status_code == 422, r.text
    assert "slots" in r.text
    persona = f"/api/v1/personas/{ctx.persona_id}"
    (patched,) = finishes(lambda: ctx.owner.patch(persona, json={"slots": [rule]}))
    assert patched.status_code == 422, patched.text
    (ok,) = finishes(lambda: ctx.owner.post("/api/v1/personas", json={"name": "Ana"}))
    assert ok.status_code == 201, ok.text
