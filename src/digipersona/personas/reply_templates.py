"""A persona's reply templates as stored on it (``Persona.reply_templates``), read leniently."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from digipersona.models import Persona


@dataclass(frozen=True)
class ReplyTemplate:
    id: str
    klass: str
    text: str


def templates_of(persona: Persona) -> tuple[list[ReplyTemplate], set[str]]:
    """The persona's reply templates and the classes it lets be sent without approval."""
    raw: dict[str, Any] = persona.reply_templates or {}
    found: list[ReplyTemplate] = []
    listed = raw.get("templates")
    if isinstance(listed, list):
        for item in listed:
            if isinstance(item, dict) and item.get("id") and item.get("text"):
                tid = str(item["id"])
                found.append(ReplyTemplate(tid, str(item.get("class") or tid), str(item["text"])))
    else:
        for key, value in raw.items():
            if key == "auto_send_classes":
                continue
            if isinstance(value, str) and value.strip():
                found.append(ReplyTemplate(key, key, value))
            elif isinstance(value, dict) and value.get("text"):
                found.append(ReplyTemplate(key, str(value.get("class") or key), str(value["text"])))
    auto = raw.get("auto_send_classes")
    classes = {str(c) for c in auto} if isinstance(auto, list) else set()
    return found, classes
