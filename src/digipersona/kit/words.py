"""Counted words for messages and pages: "1 minute", "2 minutes", never "1 minutes"."""

from __future__ import annotations

# Plurals that do not just add an "s".
_IRREGULAR = {"reply": "replies", "entry": "entries", "process": "processes"}


def plural(count: float, singular: str, plural_form: str | None = None) -> str:
    """``count`` and the word, singular for exactly 1 (and -1), else the plural."""
    shown = f"{count:g}" if isinstance(count, float) else str(count)
    if abs(count) == 1:
        return f"{shown} {singular}"
    return f"{shown} {plural_form or _IRREGULAR.get(singular, singular + 's')}"


def age(seconds: float) -> str:
    """A rounded-down duration in its largest unit: "40 seconds", "1 minute", "3 hours"."""
    whole = max(0, int(seconds))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if whole >= size:
            return plural(whole // size, unit)
    return plural(whole, "second")
