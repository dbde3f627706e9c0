"""``digipersona demo`` from the command line: seeds once, says so again, refuses real data."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from digipersona.cli.main import app
from tests.conftest import PASSWORD

runner = CliRunner()


def run(*args: str) -> object:
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_demo_command_seeds_then_changes_nothing(cli_env: Path) -> None:
    first = run("demo", "--password", PASSWORD)
    assert first.exit_code == 0, first.output
    assert "Demo workspace 'Demo' is ready" in first.output
    assert "3 personas" in first.output and "demo@example.com" in first.output
    assert "nothing is ever sent to or read from a" in " ".join(first.output.split())
    again = run("demo")
    assert again.exit_code == 0, again.output
    assert "already holds the demo: nothing to do" in again.output
    listed = run("personas", "list", "--workspace", "Demo")
    assert "Priya Nair" in listed.output


def test_demo_refuses_a_workspace_with_data(cli_env: Path) -> None:
    assert (
        run(
            "users",
            "create",
            "--email",
            "me@example.com",
            "--password",
            PASSWORD,
            "--workspace",
            "Mine",
        ).exit_code
        == 0
    )
    assert run("personas", "create", "--workspace", "Mine", "--name", "Real").exit_code == 0
    refused = run("demo", "--workspace", "Mine")
    assert refused.exit_code == 1
    assert "holds data of its own" in " ".join(refused.output.split())
    assert "Maya Okafor" not in run("personas", "list", "--workspace", "Mine").output
