"""Persona hashtags merged with the post's own: deduplicated, capped, placed per platform habit.

Tags are given with or without ``#`` (``"remote work"`` becomes ``#remotework``) and compared
case-insensitively; the first spelling wins, whether it is in the text or in the persona's list.
The cap counts the tags already in the text, so a post that already has two tags on X gets no
more; tags in the text are never removed. Placement: LinkedIn (and webhooks) get a final line of
hashtags; X and Bluesky get them at the end of the last thread part, and only the ones that still
fit there (the others are skipped, never pushed into a new part).
"""

from __future__ import annotations

from collections.abc import Sequence

from digipersona.generation.persona_rules import HASHTAG_CAPS
from digipersona.kit.richtext import find_entities, normalise_hashtag
from digipersona.posts.variants import place_hashtags, rules_for

# Platform habit: a few tags on LinkedIn, one or two on X, a couple on Bluesky. None = no cap
# (a webhook receiver decides for itself).
# The AI layer keeps a model's own tags under the same caps.
DEFAULT_CAPS: dict[str, int | None] = dict(HASHTAG_CAPS)


def normalise_tag(tag: str) -> str | None:
    """``#tag`` from a tag given with or without ``#``; None when it cannot be a hashtag."""
    return normalise_hashtag(tag)


def tags_in(text: str) -> list[str]:
    """Hashtags already in the text, in order, each once (first spelling kept)."""
    out: list[str] = []
    seen: set[str] = set()
    for entity in find_entities(text):
        if entity.kind == "hashtag" and entity.value.casefold() not in seen:
            seen.add(entity.value.casefold())
            out.append("#" + entity.value)
    return out


def missing_tags(text: str, persona_tags: Sequence[str]) -> list[str]:
    """Persona tags not already in the text, normalised, each once (first spelling kept)."""
    present = {t[1:].casefold() for t in tags_in(text)}
    out: list[str] = []
    for raw in persona_tags:
        tag = normalise_tag(raw)
        if tag is not None and tag[1:].casefold() not in present:
            present.add(tag[1:].casefold())
            out.append(tag)
    return out


def room_for_tags(text: str, platform: str, cap: int | None = None) -> int | None:
    """How many more tags the platform's cap allows (None: no cap)."""
    rules_for(platform)
    limit = cap if cap is not None else DEFAULT_CAPS.get(platform)
    return None if limit is None else max(0, limit - len(tags_in(text)))


def tags_to_add(
    text: str, persona_tags: Sequence[str], platform: str, cap: int | None = None
) -> list[str]:
    """Persona tags missing from the text, deduplicated case-insensitively, within the cap."""
    room = room_for_tags(text, platform, cap)
    tags = missing_tags(text, persona_tags)
    return tags if room is None else tags[:room]


def merge_hashtags(
    text: str,
    persona_tags: Sequence[str],
    platform: str,
    cap: int | None = None,
    *,
    numbering: bool = False,
) -> str:
    """The text with the persona's missing hashtags added in the platform's usual place.

    A tag that does not fit is skipped and the next one tried, until the cap is reached.
    """
    room = room_for_tags(text, platform, cap)
    tags = missing_tags(text, persona_tags)
    if not tags or room == 0:
        return text
    return place_hashtags(platform, text, tags, numbering=numbering, limit=room)
