from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from tests.conftest import Actor
from tests.web.test_shell import csrf_from, web_login


def test_persona_pages_create_edit_detail(client: Any, owner: Actor) -> None:
    web_login(client, owner.email)
    page = client.get("/personas")
    assert "No personas yet" in page.text
    form = client.get("/personas/new")
    data = {
        "csrf_token": csrf_from(form.text),
        "name": "Web Dana",
        "voice": "warm",
        "topics": "platform teams, DX",
        "hashtags": "#devops platform",
        "language": "en",
        "timezone": "Europe/Berlin",
        "approval_policy": "require_approval",
        "slots": "FREQ=WEEKLY;BYDAY=TU,TH;BYHOUR=6;BYMINUTE=30",
        "example_posts": "First post\n---\nSecond post",
        "banned_phrases": "synergy\nleverage",
        "blocked_domains": "",
        "jitter_minutes": "5",
        "max_lateness_minutes": "360",
    }
    r = client.post("/personas/new", data=data, follow_redirects=True)
    assert r.status_code == 200, r.text
    assert "Tuesdays and Thursdays at 06:30 Europe/Berlin" in r.text
    assert "platform teams, DX" in r.text
    persona = owner.get("/api/v1/personas").json()["items"][0]
    assert persona["example_posts"] == ["First post", "Second post"]
    assert persona["hashtags"] == ["#devops", "#platform"]
    edit = client.get(f"/personas/{persona['id']}/edit")
    assert 'value="Web Dana"' in edit.text
    r = client.post(
        f"/personas/{persona['id']}/edit",
        data={**data, "csrf_token": csrf_from(edit.text), "timezone": "Moon/Base", "version": "1"},
    )
    assert r.status_code == 422
    assert "Unknown time zone" in r.text
    assert 'value="Moon/Base"' in r.text  # what the user typed is kept
    r = client.post(
        f"/personas/{persona['id']}/edit",
        data={**data, "csrf_token": csrf_from(edit.text), "voice": "dry", "version": "1"},
        follow_redirects=True,
    )
    assert "dry" in r.text
    r = client.post(
        f"/personas/{persona['id']}/delete",
        data={"csrf_token": csrf_from(edit.text)},
        follow_redirects=True,
    )
    assert "No personas yet" in r.text


def test_persona_form_errors_inline(client: Any, owner: Actor) -> None:
    web_login(client, owner.email)
    form = client.get("/personas/new")
    r = client.post(
        "/personas/new",
        data={"csrf_token": csrf_from(form.text), "name": "", "slots": "FREQ=NOPE"},
    )
    assert r.status_code == 422
    assert 'id="e-name"' in r.text and 'id="e-slots"' in r.text


def test_viewer_cannot_create_persona_in_web(client: Any, owner: Actor, make_member: Any) -> None:
    viewer = make_member("viewer")
    web_login(client, viewer.email)
    assert client.get("/personas/new").status_code == 403
    assert "New persona" not in client.get("/personas").text


def test_personas_cli(cli_env: Any) -> None:
    from digipersona.cli.main import app

    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, list(args), catch_exceptions=False)

    assert run("personas", "list").exit_code == 1  # no workspace yet: a clear error
    run(
        "users",
        "create",
        "--email",
        "p@example.com",
        "--password",
        "correct horse 42",
        "--workspace",
        "P Co",
    )
    r = run(
        "personas", "create", "--name", "Cli Dana", "--timezone", "Asia/Kathmandu", "--topic", "ops"
    )
    assert r.exit_code == 0, r.output
    r = run("personas", "list")
    assert "Cli Dana" in r.output and "Asia/Kathmandu" in r.output
    r = run("personas", "show", "cli dana", "--json")
    assert '"timezone": "Asia/Kathmandu"' in r.output
    r = run("personas", "create", "--name", "Bad", "--timezone", "Nowhere/X")
    assert r.exit_code == 1 and "Unknown time zone" in r.output and "Traceback" not in r.output
    r = run("personas", "show", "nobody")
    assert r.exit_code == 1 and "No persona named" in r.output
