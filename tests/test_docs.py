"""The documentation holds: every setting is documented, every relative link resolves."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from digipersona.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "configuration.md"
GUIDES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
# [text](target) outside code; targets with a scheme (https:, mailto:) are not files.
_LINK = re.compile(r"(?<!\!)\[[^\]]*\]\(([^)\s]+)\)")
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)


def test_every_setting_is_documented() -> None:
    text = DOC.read_text()
    missing = [name for name in Settings.model_fields if f"DIGIPERSONA_{name.upper()}" not in text]
    assert not missing, f"document these in docs/configuration.md: {missing}"


def _anchors(path: Path) -> set[str]:
    """GitHub's heading ids: lower case, punctuation dropped, spaces as hyphens."""
    out = set()
    for line in _CODE.sub("", path.read_text()).splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            kept = "".join(c for c in title if c in " -_" or unicodedata.category(c)[0] in "LN")
            out.add(kept.replace(" ", "-"))
    return out


def _broken_links(path: Path, text: str | None = None) -> list[str]:
    """The relative links of ``path`` (or of ``text`` placed there) that lead nowhere."""
    broken = []
    source = path.read_text() if text is None else text
    for target in _LINK.findall(_CODE.sub("", source)):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        if not resolved.is_relative_to(ROOT) or not resolved.exists():
            broken.append(f"{target} (no such file in the repository)")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(f"{target} (no such heading)")
    return broken


@pytest.mark.parametrize("path", GUIDES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_at_files_of_the_repository(path: Path) -> None:
    assert not _broken_links(path), f"{path.name}: {_broken_links(path)}"


def test_the_link_check_catches_each_kind_of_broken_link() -> None:
    text = (
        "[out](../shared/CONVENTIONS.md) [ok](docs/configuration.md#settings-files) "
        "[heading](docs/configuration.md#no-such-heading) [file](docs/missing.md) "
        "[web](https://example.com/x) `[code](nowhere.md)` [here](#configuration)"
    )
    assert _broken_links(ROOT / "README.md", text) == [
        "../shared/CONVENTIONS.md (no such file in the repository)",
        "docs/configuration.md#no-such-heading (no such heading)",
        "docs/missing.md (no such file in the repository)",
    ]


def test_the_readme_leads_to_the_contributor_guide() -> None:
    assert "](CONTRIBUTING.md)" in (ROOT / "README.md").read_text()
    guide = (ROOT / "CONTRIBUTING.md").read_text()
    for topic in ("## Layout", "## Checking a change", "## Tests", "## Adding a migration"):
        assert topic in guide
