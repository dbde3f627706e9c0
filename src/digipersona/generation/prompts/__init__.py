"""Versioned prompt templates (``<name>_v<N>.txt``) and their rendering.

A template file has a ``[system]`` and a ``[user]`` section and ``$placeholders``
(``string.Template``). Changing a prompt's wording means adding ``<name>_v<N+1>.txt`` and bumping
``CURRENT``; every draft records the version it was made with.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

CURRENT: Final[dict[str, str]] = {
    "draft": "draft_v2",
    "shorten": "shorten_v1",
    "suggest": "suggest_v1",
    "reply": "reply_v1",
    "classify": "classify_v2",
}


@dataclass(frozen=True)
class Prompt:
    """A rendered prompt: system and user message, and the template version."""

    system: str
    user: str
    version: str


@cache
def _load(version: str) -> tuple[string.Template, string.Template]:
    text = resources.files(__name__).joinpath(f"{version}.txt").read_text(encoding="utf-8")
    _, _, rest = text.partition("[system]\n")
    system, _, user = rest.partition("[user]\n")
    if not system.strip() or not user.strip():
        raise ValueError(f"prompt template {version} needs a [system] and a [user] section")
    return string.Template(system.strip()), string.Template(user.strip())


def render(template: str, /, **values: str) -> Prompt:
    """Render the current version of prompt ``template``; every placeholder must be given."""
    version = CURRENT[template]
    system, user = _load(version)
    return Prompt(system.substitute(values), user.substitute(values), version)
