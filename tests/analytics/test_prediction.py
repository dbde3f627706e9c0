"""Engagement prediction: the model on a synthetic history with a real signal, "too little
history" answers, predictions through the API, and ``digipersona analytics evaluate``."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from digipersona.analytics import prediction
from digipersona.models import Persona, Workspace
from tests.analytics.synthetic import synthetic_history
from tests.analytics.test_api import persona, seed
from tests.conftest import Actor


def test_model_beats_majority_baseline_on_a_real_signal() -> None:
    result = prediction.evaluate(synthetic_history(400, seed=11))
    assert result is not None and result.test_size == 120
    assert result.accuracy >= result.baseline_accuracy + 0.12, result


def test_model_does_not_invent_a_signal_from_noise() -> None:
    result = prediction.evaluate(synthetic_history(400, seed=11, signal=False))
    assert result is not None
    assert result.accuracy < result.baseline_accuracy + 0.1, result


def test_evaluation_needs_enough_history() -> None:
    assert prediction.evaluate(synthetic_history(prediction.MIN_TRAINING - 1)) is None


def test_split_is_chronological_and_thresholds_come_from_training_only() -> None:
    history = synthetic_history(100, seed=3)
    result = prediction.evaluate(history)
    assert result is not None and (result.train_size, result.test_size) == (70, 30)
    # Shuffling the input order changes nothing: the split is by time.
    assert prediction.evaluate(list(reversed(history))) == result


def history_with_question_signal(factory: Any, owner: Actor, pid: str, n: int = 30) -> None:
    """Questions get about 10x the engagement of statements, at the same times."""
    base = datetime(2026, 9, 1, 6, 30, tzinfo=UTC)
    for i in range(n):
        question = i % 2 == 0
        body = f"Post {i} about platform teams" + (", what do you think?" if question else ".")
        likes = 40 + i % 5 if question else 3 + i % 3
        seed(
            factory,
            owner,
            pid,
            "x",
            base + timedelta(days=2 * i),
            {"likes": likes, "reposts": 0, "replies": 0, "quotes": 0, "impressions": 100},
            body=body,
        )


def draft(owner: Actor, pid: str, body: str) -> str:
    r = owner.post("/api/v1/content", json={"persona_id": pid, "body": body, "platforms": ["x"]})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_prediction_says_when_history_is_too_small(owner: Actor, session_factory: Any) -> None:
    pid = persona(owner)
    history_with_question_signal(session_factory, owner, pid, n=5)
    post_id = draft(owner, pid, "Should platform teams have PMs?")
    r = owner.get(f"/api/v1/content/{post_id}/prediction")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "insufficient_history" and body["predictions"] == []
    assert "5 measured posts" in body["message"] and "needs 20" in body["message"]


def test_prediction_learns_the_workspace_signal(
    owner: Actor, outsider: Actor, session_factory: Any
) -> None:
    pid = persona(owner)
    history_with_question_signal(session_factory, owner, pid)
    asks = draft(owner, pid, "Should platform teams have product managers, what do you think?")
    tells = draft(owner, pid, "Platform teams need product managers.")
    at = {"at": "2026-12-01T06:30:00+01:00"}
    high = owner.get(f"/api/v1/content/{asks}/prediction", params=at).json()
    low = owner.get(f"/api/v1/content/{tells}/prediction", params=at).json()
    assert high["status"] == "ok" and high["measured_posts"] == 30
    assert high["predictions"][0]["band"] == "high"
    assert "question: yes" in high["predictions"][0]["reasons"]
    assert low["predictions"][0]["band"] == "low"
    assert abs(sum(high["predictions"][0]["probabilities"].values()) - 1) < 0.01
    assert high["local_time"].startswith("2026-12-01T06:30")
    naive = owner.get(f"/api/v1/content/{asks}/prediction", params={"at": "2026-12-01T06:30"})
    assert naive.status_code == 422 and "zone" in naive.json()["detail"]
    assert outsider.get(f"/api/v1/content/{asks}/prediction").status_code == 404


def test_editor_shows_prediction(client: Any, owner: Actor, session_factory: Any) -> None:
    from tests.web.test_shell import web_login

    pid = persona(owner)
    post_id = draft(owner, pid, "A draft")
    web_login(client, owner.email)
    html = client.get(f"/content/{post_id}").text
    assert "Engagement forecast" in html and f'hx-get="/analytics/forecast/{post_id}"' in html
    fragment = client.get(f"/analytics/forecast/{post_id}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "Not enough history" in fragment.text
    assert client.get(f"/analytics/forecast/{uuid.uuid4()}").status_code == 404


def test_cli_evaluate(cli_env: Any) -> None:
    from digipersona import db
    from digipersona.cli.main import app
    from digipersona.config import get_settings

    runner = CliRunner()
    run = lambda *a: runner.invoke(app, list(a), catch_exceptions=False)  # noqa: E731
    run(
        "users",
        "create",
        "--email",
        "e@example.com",
        "--password",
        "correct horse 42",
        "--workspace",
        "E",
    )
    run("personas", "create", "--name", "Dana")
    r = run("analytics", "evaluate")
    assert r.exit_code == 0 and "Not enough history: 0 measured posts" in r.output

    engine = db.make_engine(get_settings().effective_database_url)
    factory = db.make_sessionmaker(engine)
    with factory() as s:
        ws = s.scalars(select(Workspace)).one()
        dana = s.scalars(select(Persona)).one()
    owner = Actor(name="o", email="", client=None)  # type: ignore[arg-type]
    owner.workspace_id = ws.id
    history_with_question_signal(factory, owner, str(dana.id), n=40)
    engine.dispose()
    r = run("analytics", "evaluate", "--workspace", "E", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["status"] == "ok" and data["test_size"] == 12
    assert data["accuracy"] > data["baseline_accuracy"]
    text = run("analytics", "evaluate").output
    assert "accuracy" in text and "baseline accuracy" in text
    assert run("analytics", "evaluate", "--workspace", "nope").exit_code == 1
    assert uuid.UUID(str(ws.id))


def test_unscheduled_post_is_forecast_for_the_next_slot(owner: Actor) -> None:
    from zoneinfo import ZoneInfo

    pid = persona(owner)  # Europe/Berlin, default slots Tue/Thu 06:30
    post_id = draft(owner, pid, "Not scheduled yet")
    body = owner.get(f"/api/v1/content/{post_id}/prediction").json()
    local = datetime.fromisoformat(body["at"]).astimezone(ZoneInfo("Europe/Berlin"))
    assert local.weekday() in (1, 3) and (local.hour, local.minute) == (6, 30)
