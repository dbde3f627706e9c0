"""The user guide builds with ``mkdocs build --strict`` (every page in the nav, no broken link
or anchor), and its command line page is the one the commands generate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_guide_builds_strictly(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("mkdocs")),
            "build",
            "--strict",
            "--config-file",
            str(ROOT / "mkdocs.yml"),
            "--site-dir",
            str(tmp_path / "site"),
        ],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert (tmp_path / "site" / "cli" / "index.html").exists()


def test_the_cli_page_matches_the_commands() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from cli_reference import render
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    page = (ROOT / "docs" / "cli.md").read_text()
    assert page == render(), "regenerate: .venv/bin/python scripts/cli_reference.py > docs/cli.md"
    assert "### digipersona backup" in page and "### digipersona db upgrade" in page


def test_readme_links_the_guide() -> None:
    assert "docs/index.md" in (ROOT / "README.md").read_text()
