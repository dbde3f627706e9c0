"""The autopilot API and CLI: rules and triggers CRUD, validation, runs, dry runs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from digipersona.cli.main import app
from tests.autopilot.conftest import Ctx, make_persona
from tests.conftest import Actor


def _rules(ctx: Ctx) -> str:
    return f"/api/v1/personas/{ctx.persona_id}/autopilot/rules"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, "not a valid RRULE"),
        ({"rrule": "every monday"}, "not an RRULE"),
        ({"rrule": "FREQ=MINUTELY"}, "HOURLY or coarser"),
        ({"rrule": "BYHOUR=8"}, "has no FREQ"),
        ({"rrule": "FREQ=DAILY;COUNT=1;UNTIL=20200101T000000Z"}, "COUNT or UNTIL, not both"),
        ({"rrule": "FREQ=DAILY;UNTIL=20200101T000000Z"}, "not a valid RRULE"),
        ({"rrule": "FREQ=DAILY;COUNT=1"}, "never runs again"),
        ({"rrule": "FREQ=DAILY", "count": 6}, "at most 5"),
        ({"rrule": "FREQ=DAILY", "destination": "slots"}, "auto_approve"),
        ({"rrule": "FREQ=DAILY", "platforms": ["myspace"]}, "platforms"),
        ({"rrule": "FREQ=DAILY", "mode": "sometimes"}, "mode"),
        ({"rrule": "FREQ=DAILY", "surprise": 1}, "surprise"),
    ],
)
def test_bad_rules_are_refused_with_a_clear_422(
    ctx: Ctx, body: dict[str, Any], message: str
) -> None:
    r = ctx.owner.post(_rules(ctx), json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert message in r.text
    assert ctx.owner.get(_rules(ctx)).json() == []


def test_rule_crud_says_what_happens_next(ctx: Ctx) -> None:
    r = ctx.owner.post(
        _rules(ctx),
        json={
            "rrule": "RRULE:FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0",
            "count": 2,
            "platforms": ["linkedin"],
            "topics": ["platform teams"],
        },
    )
    assert r.status_code == 201, r.text
    rule = r.json()
    assert rule["rrule"] == "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0"
    assert rule["next_run_at"]
    assert "Mondays at 08:00 Europe/Berlin" in rule["description"]
    assert "2 LinkedIn drafts on platform teams, to review" in rule["description"]
    assert rule["description"].split("Next: ")[1].startswith("Mon ")

    r = ctx.owner.patch(f"{_rules(ctx)}/{rule['id']}", json={"enabled": False})
    assert r.json()["enabled"] is False and "Paused" in r.json()["description"]
    r = ctx.owner.patch(f"{_rules(ctx)}/{rule['id']}", json={"rrule": "FREQ=DAILY;BYHOUR=25"})
    assert r.status_code == 422
    assert ctx.owner.delete(f"{_rules(ctx)}/{rule['id']}").status_code == 204
    assert ctx.owner.get(f"{_rules(ctx)}/{rule['id']}").status_code == 404


def test_run_now_dry_run_and_runs_list(ctx: Ctx) -> None:
    ctx.owner.post(_rules(ctx), json={"rrule": "FREQ=DAILY;BYHOUR=8", "count": 2})
    base = f"/api/v1/personas/{ctx.persona_id}/autopilot"
    r = ctx.owner.post(f"{base}/run", params={"dry_run": "true"})
    assert r.status_code == 200, r.text
    [planned] = r.json()
    assert planned["status"] == "dry_run"
    assert len(planned["details"]["plans"]) == 2
    assert ctx.count_posts() == 0
    assert ctx.owner.get(f"{base}/runs").json()["total"] == 0

    r = ctx.owner.post(f"{base}/run")
    [done] = r.json()
    assert done["status"] == "generated" and len(done["post_ids"]) == 2
    assert ctx.count_posts() == 2
    runs = ctx.owner.get(f"{base}/runs").json()
    assert runs["total"] == 1 and runs["items"][0]["source"] == "manual"


def test_slots_destination_is_allowed_for_auto_approve_personas(client: Any, owner: Actor) -> None:
    persona_id = make_persona(owner, approval_policy="auto_approve")
    r = owner.post(
        f"/api/v1/personas/{persona_id}/autopilot/rules",
        json={"rrule": "FREQ=DAILY;BYHOUR=8", "destination": "slots"},
    )
    assert r.status_code == 201, r.text
    assert "into the next free slots" in r.json()["description"]


def test_trigger_crud_and_validation(ctx: Ctx) -> None:
    base = f"/api/v1/personas/{ctx.persona_id}/autopilot/triggers"
    assert ctx.owner.post(base, json={"kind": "feed"}).status_code == 422
    r = ctx.owner.post(base, json={"kind": "feed", "feed_url": "ftp://x.example/feed"})
    assert r.status_code == 422
    r = ctx.owner.post(base, json={"kind": "webhook", "feed_url": "https://x.example/f"})
    assert r.status_code == 422 and "only for feed" in r.text
    r = ctx.owner.post(base, json={"kind": "feed", "feed_url": "https://blog.example/rss"})
    assert r.status_code == 201, r.text
    feed = r.json()
    assert feed["token"] is None and feed["webhook_path"] is None
    r = ctx.owner.post(base, json={"kind": "webhook", "name": "Releases"})
    hook = r.json()
    assert hook["token"].startswith("dp_hook_") and hook["token_hint"] == hook["token"][-4:]
    assert hook["webhook_path"] == f"/api/v1/personas/{ctx.persona_id}/triggers/{hook['id']}"
    # The token is shown once: never in reads.
    assert "token" not in ctx.owner.get(f"{base}/{hook['id']}").json()
    assert hook["token"] not in ctx.owner.get(base).text
    assert ctx.owner.post(base, json={"kind": "engagement"}).status_code == 201
    assert ctx.owner.post(base, json={"kind": "engagement"}).status_code == 409
    r = ctx.owner.patch(f"{base}/{feed['id']}", json={"poll_minutes": 60, "enabled": False})
    assert r.json()["poll_minutes"] == 60 and r.json()["enabled"] is False
    assert ctx.owner.delete(f"{base}/{feed['id']}").status_code == 204
    assert len(ctx.owner.get(base).json()) == 2


def test_cli_rule_add_run_and_status(cli_env: Any) -> None:
    runner = CliRunner()

    def run(*args: str) -> Any:
        result = runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "250"})
        return result

    run("users", "create", "--email", "ap@example.com", "--password", "correct horse 42")
    run(
        "personas",
        "create",
        "--name",
        "Dana",
        "--topic",
        "platform teams",
        "--topic",
        "DX",
        "--timezone",
        "Europe/Berlin",
    )
    r = run("autopilot", "run", "--persona", "dana")
    assert r.exit_code == 0 and "no enabled autopilot rule" in r.output
    r = run(
        "autopilot",
        "rule-add",
        "--persona",
        "dana",
        "--rrule",
        "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8",
        "-n",
        "2",
    )
    assert r.exit_code == 0, r.output
    assert "Mondays at 08:00 Europe/Berlin" in r.output and "2 LinkedIn drafts" in r.output
    r = run("autopilot", "rule-add", "--persona", "dana", "--rrule", "FREQ=SECONDLY")
    assert r.exit_code == 1 and "HOURLY or coarser" in r.output and "Traceback" not in r.output
    r = run("autopilot", "run", "--persona", "dana", "--dry-run")
    assert r.exit_code == 0, r.output
    assert "would draft 2" in r.output
    r = run("generate", "--persona", "dana", "--brief", "x", "--json")
    assert len(json.loads(r.output)) == 1  # only the hand-made draft exists so far
    r = run("autopilot", "run", "--persona", "dana")
    assert r.exit_code == 0, r.output
    assert "2 draft(s)" in r.output and r.output.count("in_review") == 2
    r = run("autopilot", "status")
    assert r.exit_code == 0, r.output
    assert (
        "Dana" in r.output and "Mondays at 08:00" in r.output and "manual: 2 draft(s)" in r.output
    )
