"""Persona hashtags merged with the post's own: deduplicated, capped, placed per platform habit.

LinkedIn gets a final line of hashtags; X and Bluesky get them appended to the last part of the
thread, only those that still fit (the splitter places them). Caps count the tags already in
the text: LinkedIn 5, X 2, Bluesky 3, webhook unlimited.
"""

from __future__ import annotations

from collections.abc import Sequence

from digipersona.kit.richtext import HASHTAG_RE

DEFAULT_CAPS = {"linkedin": 5, "x": 2, "bluesky": 3, "webhook": 1000}


def normalise_tag(tag: str) -> str:
    tag = tag.strip()
    return tag if tag.startswith("#") else f"#{tag}"


def tags_in(text: str) -> list[str]:
    """Hashtags already in the text (not pure numbers), in order, first spelling kept."""
    out: list[str] = []
    seen: set[str] = set()
    for match in HASHTAG_RE.finditer(text):
        tag = match.group(1)
        if tag.isdigit() or tag.casefold() in seen:
            continue
        seen.add(tag.casefold())
        out.append(f"#{tag}")
    return out


def tags_to_add(
    text: str, persona_tags: Sequence[str], platform: str, cap: int | None = None
) -> list[str]:
    """Persona tags missing from the text, deduplicated case-insensitively, within the cap."""
    present = {t.casefold() for t in tags_in(text)}
    limit = (DEFAULT_CAPS.get(platform, 5) if cap is None else cap) - len(present)
    out: list[str] = []
    for raw in persona_tags:
        tag = normalise_tag(raw)
        if len(tag) < 2 or tag.casefold() in present:
            continue
        if len(out) >= limit:
            break
        present.add(tag.casefold())
        out.append(tag)
    return out


def merge_hashtags(
    text: str, persona_tags: Sequence[str], platform: str, cap: int | None = None
) -> str:
    """The text with the persona's missing hashtags added in the platform's usual place."""
    tags = tags_to_add(text, persona_tags, platform, cap)
    if not tags:
        return text
    if platform == "linkedin":
        return f"{text.rstrip()}\n\n{' '.join(tags)}"
    return f"{text.rstrip()} {' '.join(tags)}"
