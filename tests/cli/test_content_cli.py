from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from digipersona.cli.main import app

runner = CliRunner()


def run(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_generate_review_approve_from_the_shell(cli_env: Any) -> None:
    run(
        "users",
        "create",
        "--email",
        "c@example.com",
        "--password",
        "correct horse 42",
        "--workspace",
        "C",
    )
    run("personas", "create", "--name", "Dana", "--topic", "platform teams", "--hashtag", "devops")
    r = run(
        "generate",
        "--persona",
        "dana",
        "--brief",
        "Why platform teams need PMs",
        "--platform",
        "x",
        "--platform",
        "linkedin",
        "-n",
        "2",
        "--seed",
        "3",
    )
    assert r.exit_code == 0, r.output
    assert "x: " in r.output and "linkedin: " in r.output and "lengths" in r.output
    r = run("generate", "--persona", "dana", "--brief", "Again", "--platform", "bluesky", "--json")
    [post] = json.loads(r.output)
    pid = post["id"]
    assert run("content", "submit", pid).output.strip().endswith("in_review")
    assert run("content", "approve", pid).output.strip().endswith("approved")
    assert "approved" in run("content", "list", "--status", "approved").output
    r = run("content", "show", pid, "--json")
    assert json.loads(r.output)["status"] == "approved"


def test_content_cli_errors_are_one_line(cli_env: Any) -> None:
    run("users", "create", "--email", "d@example.com", "--password", "correct horse 42")
    r = run("generate", "--persona", "nobody", "--brief", "x")
    assert r.exit_code == 1
    assert "No persona named" in r.output
    run("personas", "create", "--name", "P")
    r = run("generate", "--persona", "P", "--brief", "x", "--platform", "myspace")
    assert r.exit_code != 0
    assert "Traceback" not in r.output
    r = run("content", "approve", "not-an-id")
    assert r.exit_code == 1
    assert "not a post id" in r.output
