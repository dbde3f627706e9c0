"""`digipersona content import|export` on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

runner = CliRunner()


def run(*args: str) -> Any:
    from digipersona.cli.main import app

    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def cli_db(cli_env: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    from digipersona.config import get_settings

    monkeypatch.setenv("DIGIPERSONA_DATABASE_URL", database_url)
    get_settings.cache_clear()
    args = ["users", "create", "--email", "b@example.com", "--password", "correct horse 42"]
    assert run(*args, "--workspace", "Bulk Co").exit_code == 0
    assert run("personas", "create", "--name", "Dana").exit_code == 0
    return cli_env


def test_content_import_dry_run_real_and_export(cli_db: Path) -> None:
    bad = cli_db / "bad.csv"
    bad.write_text("persona,text,platforms\nDana,Fine,x\nNobody,Who,x\nDana,,myspace\n")
    r = run("content", "import", str(bad), "--dry-run")
    assert r.exit_code == 1, r.output
    assert "row 2, persona: no persona named or with id 'Nobody'" in r.output
    assert "row 3, platforms.0" in r.output and "nothing was imported" in r.output
    r = run("content", "import", str(bad))
    assert r.exit_code == 1 and "Traceback" not in r.output
    r = run("content", "export", str(cli_db / "none.json"))
    assert r.exit_code == 0 and json.loads((cli_db / "none.json").read_text()) == []

    good = cli_db / "good.json"
    good.write_text(
        json.dumps(
            [
                {"persona": "Dana", "text": "One, two", "platforms": ["x"], "priority": 3},
                {
                    "persona": "dana",
                    "text": "Long",
                    "platforms": ["x", "linkedin"],
                    "variants": {"x": "Short"},
                },
            ]
        )
    )
    r = run("content", "import", str(good), "--dry-run")
    assert r.exit_code == 0 and "All 2 rows are fine" in r.output
    r = run("content", "export", str(cli_db / "still-none.csv"))
    assert "Wrote 0 posts" in r.output
    r = run("content", "import", str(good), "--workspace", "bulk co")
    assert r.exit_code == 0 and "Imported 2 drafts" in r.output, r.output

    r = run("content", "export", str(cli_db / "out.csv"))
    assert r.exit_code == 0 and "Wrote 2 posts" in r.output
    rows = list(csv.DictReader((cli_db / "out.csv").open()))
    assert sorted((x["text"], x["platforms"], x["priority"]) for x in rows) == [
        ("Long", "x linkedin", "0"),
        ("One, two", "x", "3"),
    ]
    r = run("content", "export", str(cli_db / "out.txt"), "--format", "json")
    assert len(json.loads((cli_db / "out.txt").read_text())) == 2


def test_content_import_refuses_other_files_clearly(cli_db: Path) -> None:
    other = cli_db / "rows.xlsx"
    other.write_text("x")
    r = run("content", "import", str(other))
    assert r.exit_code == 1 and ".csv or .json" in r.output
    broken = cli_db / "rows.json"
    broken.write_text("{not json")
    r = run("content", "import", str(broken))
    assert r.exit_code == 1 and "not valid JSON" in r.output
    r = run("content", "import", str(cli_db / "missing.csv"))
    assert r.exit_code == 1 and "No file" in r.output
