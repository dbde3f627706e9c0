"""What the post previews show: each distinct text once, drawn like the network it goes to.

A post to four networks usually has one text on three of them and a shorter one on X. The
approval card and the editor show each distinct text once, with the networks it goes to ("Same
text on LinkedIn, X, webhook"), instead of the same preview four times or empty headings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from digipersona.exceptions import ValidationFailed
from digipersona.models import Media, Persona
from digipersona.posts.variants import rules_for

# LinkedIn folds a post after about 210 characters behind "…see more" (in the feed, on desktop
# and in the app); the preview marks where.
SEE_MORE_AT = 210
LABELS = {"linkedin": "LinkedIn", "x": "X", "bluesky": "Bluesky", "webhook": "webhook"}


class VariantLike(Protocol):
    """A stored variant or one fitted from unsaved text (the live preview)."""

    platform: str
    parts: Any
    lengths: Any
    valid: bool
    problems: Any


@dataclass(frozen=True)
class Counter:
    platform: str
    length: int
    limit: int
    unit: str

    @property
    def over(self) -> bool:
        return self.length > self.limit


@dataclass(frozen=True)
class Part:
    text: str
    # LinkedIn only: the text before and after the "see more" fold ("" when it all shows).
    shown: str
    folded: str
    counters: tuple[Counter, ...]


@dataclass(frozen=True)
class Preview:
    """One distinct text and every platform it goes to; drawn in the first one's style."""

    platforms: tuple[str, ...]
    variants: tuple[VariantLike, ...]
    parts: tuple[Part, ...]
    display_name: str
    handle: str
    initials: str
    media: tuple[Media, ...]

    @property
    def platform(self) -> str:
        return self.platforms[0]

    @property
    def labels(self) -> str:
        """ "LinkedIn, X, webhook": the platforms in the post's order."""
        return ", ".join(LABELS.get(p, p) for p in self.platforms)

    @property
    def valid(self) -> bool:
        return all(v.valid for v in self.variants)

    @property
    def problems(self) -> list[str]:
        return list(dict.fromkeys(p for v in self.variants for p in v.problems))

    @property
    def thread(self) -> bool:
        return len(self.parts) > 1


def fold(text: str, at: int = SEE_MORE_AT) -> tuple[str, str]:
    """``text`` cut where LinkedIn folds it: at the last space before ``at`` characters."""
    if len(text) <= at:
        return text, ""
    cut = text.rfind(" ", 0, at)
    cut = cut if cut > at // 2 else at
    return text[:cut].rstrip(), text[cut:].lstrip()


def _counter(variant: VariantLike, index: int) -> Counter:
    try:
        rules = rules_for(variant.platform)
        limit, unit = rules.limit, rules.unit
    except ValidationFailed:
        limit, unit = 0, "characters"
    lengths = list(variant.lengths or [])
    length = lengths[index] if index < len(lengths) else len(variant.parts[index])
    return Counter(variant.platform, int(length), limit, unit)


def _initials(name: str) -> str:
    words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def previews(
    variants: Sequence[VariantLike],
    persona: Persona,
    accounts: Mapping[str, tuple[str, str]],
    media: Sequence[Media] = (),
    order: Sequence[str] = (),
) -> list[Preview]:
    """One preview per distinct text (its thread parts), in the post's platform order."""
    rank = {platform: i for i, platform in enumerate(order)}
    ordered = sorted(variants, key=lambda v: (rank.get(v.platform, len(rank)), v.platform))
    groups: dict[tuple[str, ...], list[VariantLike]] = {}
    for variant in ordered:
        groups.setdefault(tuple(variant.parts or [""]), []).append(variant)
    out = []
    for texts, group in groups.items():
        first = group[0]
        display_name, handle = accounts.get(first.platform, ("", ""))
        display_name = display_name or persona.name
        parts = []
        for index, text in enumerate(texts):
            shown, folded = fold(text) if first.platform == "linkedin" else (text, "")
            counters = tuple(_counter(v, index) for v in group)
            parts.append(Part(text=text, shown=shown, folded=folded, counters=counters))
        out.append(
            Preview(
                platforms=tuple(v.platform for v in group),
                variants=tuple(group),
                parts=tuple(parts),
                display_name=display_name,
                handle=handle,
                initials=_initials(display_name),
                media=tuple(media) if first.platform != "webhook" else (),
            )
        )
    return out
