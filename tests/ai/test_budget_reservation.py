"""The monthly AI budget holds under concurrency: a request reserves its estimate atomically
before the model is asked and settles it after, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from digipersona.ai import service as ai
from digipersona.autopilot import drafting
from digipersona.autopilot.planning import PlannedDraft
from digipersona.config import Settings
from digipersona.generation import PersonaProfile
from digipersona.kit.time import utcnow
from digipersona.models import AIReservation, AIUsage, Notification, Post
from tests.ai.test_ai_settings import _configure, _generate, _persona
from tests.conftest import Actor
from tests.fakes.llm_openai import FakeOpenAI

# A call is estimated at 3000 tokens in and 2048 out: at $100 per million each, ~$0.505.
PRICES = {"small-model": {"input": 100.0, "output": 100.0}}
ONE_CALL = 0.5048


def _wait_until(check: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _budget_notes(factory: sessionmaker[Session]) -> list[Notification]:
    with factory() as session:
        return list(
            session.scalars(select(Notification).where(Notification.kind == "ai.budget")).all()
        )


def test_a_request_under_way_holds_its_share_of_the_budget(
    owner: Actor, fake: tuple[FakeOpenAI, str], session_factory: sessionmaker[Session]
) -> None:
    """While one draft waits on the model, a second one finds the budget held and is refused
    before it reaches the model; the first then settles to its real cost."""
    server, url = fake
    _configure(owner, url, monthly_budget_usd=0.52, prices=PRICES)
    persona_id = _persona(owner)
    server.delay_next(120)  # the first call waits until released below
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(_generate, owner, persona_id)
        _wait_until(lambda: len(server.generation_requests()) == 1, "the first model call")
        with session_factory() as session:
            held = session.scalars(select(AIReservation)).all()
            assert [round(r.cost_usd, 4) for r in held] == [ONE_CALL]
        second = _generate(owner, persona_id)
        assert second.status_code == 409, second.text
        assert "paused" in second.json()["detail"]
        assert len(server.generation_requests()) == 1  # never asked the model
        server.shutdown()  # release the first call
        assert first.result(timeout=60).status_code == 201
    with session_factory() as session:
        assert session.scalars(select(AIReservation)).all() == []  # settled
        assert 0 < sum(u.cost_usd for u in session.scalars(select(AIUsage))) <= 0.52
        assert len(session.scalars(select(Post)).all()) == 1
    assert len(_budget_notes(session_factory)) == 1
    # The held share is back: the real call cost far less than its estimate, yet one more
    # estimate does not fit, so it stays refused (and the workspace is not notified again).
    assert _generate(owner, persona_id).status_code == 409
    assert len(_budget_notes(session_factory)) == 1


def test_concurrent_reservations_never_pass_the_budget(
    owner: Actor,
    fake: tuple[FakeOpenAI, str],
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    """Eight requests race for a budget that holds three: exactly three get through."""
    _server, url = fake
    _configure(owner, url, monthly_budget_usd=3 * ONE_CALL + 0.01, prices=PRICES)
    with session_factory() as session:
        resolved = ai.resolve(session, owner.workspace_id, settings)
    start = threading.Barrier(8)

    def race(_: int) -> Any:
        start.wait(timeout=30)
        try:
            return ai.reserve(session_factory, resolved, calls=1)
        except ai.AIBudgetExhausted as exc:
            return exc

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(race, range(8)))
    granted = [r for r in results if isinstance(r, ai.Reservation)]
    refused = [r for r in results if isinstance(r, ai.AIBudgetExhausted)]
    assert (len(granted), len(refused)) == (3, 5)
    assert all(r.id is not None for r in granted)
    with session_factory() as session:
        held = session.scalars(select(AIReservation)).all()
        assert round(sum(r.cost_usd for r in held), 4) == round(3 * ONE_CALL, 4)
    assert len(_budget_notes(session_factory)) == 1  # five refusals, one notification
    for reservation in granted:
        ai.release(session_factory, reservation)
    with session_factory() as session:
        assert session.scalars(select(AIReservation)).all() == []


def test_a_reservation_left_by_a_dead_process_expires(
    owner: Actor,
    fake: tuple[FakeOpenAI, str],
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    _server, url = fake
    _configure(owner, url, monthly_budget_usd=0.52, prices=PRICES)
    with session_factory() as session:
        resolved = ai.resolve(session, owner.workspace_id, settings)
    now = utcnow()
    ai.reserve(session_factory, resolved, calls=1, now=now)  # never settled
    with pytest.raises(ai.AIBudgetExhausted):
        ai.reserve(session_factory, resolved, calls=1, now=now + timedelta(minutes=1))
    later = now + ai.RESERVATION_TTL + timedelta(seconds=1)
    assert ai.reserve(session_factory, resolved, calls=1, now=later).id is not None


def test_without_a_budget_nothing_is_held(
    owner: Actor,
    fake: tuple[FakeOpenAI, str],
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    _server, url = fake
    _configure(owner, url, prices=PRICES)
    with session_factory() as session:
        resolved = ai.resolve(session, owner.workspace_id, settings)
    assert ai.reserve(session_factory, resolved, calls=5) == ai.NO_RESERVATION
    persona_id = _persona(owner)
    assert _generate(owner, persona_id).status_code == 201
    with session_factory() as session:
        assert session.scalars(select(AIReservation)).all() == []


def test_a_failed_model_call_releases_its_hold(
    owner: Actor, fake: tuple[FakeOpenAI, str], session_factory: sessionmaker[Session]
) -> None:
    server, url = fake
    _configure(owner, url, monthly_budget_usd=0.52, prices=PRICES)
    persona_id = _persona(owner)
    server.fail_next(400, message="bad request")
    r = _generate(owner, persona_id)
    assert r.status_code >= 400 and r.status_code != 500, r.text
    with session_factory() as session:
        assert session.scalars(select(AIReservation)).all() == []
    assert _generate(owner, persona_id).status_code == 201  # the budget was given back


def test_autopilot_reserves_too(
    owner: Actor,
    fake: tuple[FakeOpenAI, str],
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    """The autopilot's run is refused by a budget another request holds (a failed run)."""
    _server, url = fake
    _configure(owner, url, monthly_budget_usd=0.52, prices=PRICES)
    with session_factory() as session:
        resolved = ai.resolve(session, owner.workspace_id, settings)
    held = ai.reserve(session_factory, resolved, calls=1)
    job = drafting.DraftJob(
        plans=[PlannedDraft(topic="remote work", structure="hook")],
        platforms=["linkedin"],
        destination="drafts",
        brief="Why written updates beat status meetings",
        ai=resolved,
    )
    answer = drafting.ask(session_factory, settings, PersonaProfile(name="Ada"), job, None)
    assert answer.drafts == [] and answer.error is not None and "paused" in answer.error
    ai.release(session_factory, held)
    answer = drafting.ask(session_factory, settings, PersonaProfile(name="Ada"), job, None)
    assert answer.error is None and len(answer.drafts) == 1
    assert answer.held.id is not None
    with session_factory() as session:
        drafting.settle(session, [answer])
        session.commit()
        assert session.scalars(select(AIReservation)).all() == []
