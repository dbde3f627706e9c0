from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from digipersona.cli.main import app
from tests.conftest import Actor


def test_score_endpoint(owner: Actor) -> None:
    r = owner.post(
        "/api/v1/interactions/score",
        json={
            "text": "Do you consult? We need help with our platform team, what are your rates?",
            "author_bio": "CTO at Acme",
        },
    )
    assert r.status_code == 200
    data = r.json()
    assert data["is_lead"] is True
    assert data["score"] >= 50
    assert data["reasons"]
    r = owner.post("/api/v1/interactions/score", json={"text": "Great post, love this!"})
    assert r.json()["is_lead"] is False


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": "x" * 10001}, {"text": "hi", "x": 1}])
def test_score_bad_input(owner: Actor, body: dict[str, Any]) -> None:
    assert owner.post("/api/v1/interactions/score", json=body).status_code == 422


def test_leads_cli_json() -> None:
    r = CliRunner().invoke(app, ["leads", "score", "Can we talk? DM me your pricing", "--json"])
    assert r.exit_code == 0
    data = json.loads(r.output)
    assert set(data) == {"score", "is_lead", "reasons"}
    assert data["is_lead"] is True
    r = CliRunner().invoke(app, ["leads", "score", "nice"])
    assert "not a lead" in r.output
