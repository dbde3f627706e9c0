from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from digipersona.cli.main import app

runner = CliRunner()


def run(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_db_upgrade_and_users_create(cli_env: Path) -> None:
    r = run("db", "upgrade")
    assert r.exit_code == 0, r.output
    assert "Database at revision" in r.output
    r = run(
        "users",
        "create",
        "--email",
        "cli@example.com",
        "--password",
        "correct horse 42",
        "--workspace",
        "CLI Co",
    )
    assert r.exit_code == 0, r.output
    assert "owner of workspace 'CLI Co'" in r.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "bad", "--password", "correct horse 42"], "not a valid email"),
        (["--email", "w@example.com", "--password", "short"], "at least 10 characters"),
        (["--email", "c@example.com", "--password", "QWERTY123456"], "most common"),
    ],
)
def test_users_create_errors_are_one_line(cli_env: Path, args: list[str], message: str) -> None:
    r = run("users", "create", *args)
    assert r.exit_code == 1
    assert message in r.output
    assert "Traceback" not in r.output


def test_duplicate_user_is_a_clear_error(cli_env: Path) -> None:
    args = ["users", "create", "--email", "d@example.com", "--password", "correct horse 42"]
    assert run(*args).exit_code == 0
    r = run(*args)
    assert r.exit_code == 1 and "already exists" in r.output


def test_keys_generate_prints_a_fernet_key(cli_env: Path) -> None:
    r = run("keys", "generate")
    Fernet(r.output.strip().encode())


# -- start-up: commands are imported when they run --------------------------------------------
HELP_IMPORTS = """
import sys
from typer.testing import CliRunner
from digipersona.cli.main import app
result = CliRunner().invoke(app, ["--help"])
assert result.exit_code == 0, result.output
heavy = sorted(m for m in ("sqlalchemy", "fastapi", "twitter_text", "argon2", "httpx",
                           "digipersona.db", "digipersona.models") if m in sys.modules)
print(" ".join(heavy))
"""


def test_help_imports_no_service() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", HELP_IMPORTS], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "", f"--help imported {out.stdout.strip()}"


def test_the_listing_says_what_each_command_says() -> None:
    from digipersona.cli.main import COMMANDS

    listing = run("--help").output
    for name, lazy in COMMANDS.items():
        command = lazy.load(name)
        assert lazy.help == (command.short_help or command.help or "").strip().splitlines()[0]
        assert name in listing
        sub = run(name, "--help")
        assert sub.exit_code == 0, sub.output
        assert lazy.help.split(" (")[0][:30] in " ".join(sub.output.split())
