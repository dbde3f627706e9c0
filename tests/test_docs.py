"""Every setting is documented in docs/configuration.md."""

from __future__ import annotations

from pathlib import Path

from digipersona.config import Settings

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_every_setting_is_documented() -> None:
    text = DOC.read_text()
    missing = [name for name in Settings.model_fields if f"DIGIPERSONA_{name.upper()}" not in text]
    assert not missing, f"document these in docs/configuration.md: {missing}"
