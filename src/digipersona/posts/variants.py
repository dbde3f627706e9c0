"""Fitting a post's text to each platform: counting, thread splitting, validity with reasons.

Counting is each platform's own (platform-apis.md): X weighted length 280 (1.4), Bluesky 300
graphemes AND 3000 UTF-8 bytes (2.4), LinkedIn 3000 UTF-16 units after little-text escaping (3.5;
the unit is undocumented, this is the strictest reading) with an optional plain-text follow-up
comment of at most 1250, and webhooks 100,000 characters.

Long text becomes a thread on X and Bluesky. The text is cut into pieces, coarsest first: a
paragraph that fits in one part stays whole; one that does not is cut into lines, then sentences,
then words; a word longer than a part is cut between grapheme clusters, but never inside a URL,
mention or hashtag. Pieces are then packed greedily. A URL (or any single cluster) that is longer
than a part on its own cannot be cut: it gets a part of its own and the variant is invalid, with
the overflow in the problem message. Optional " i/n" numbering is counted in each part's length.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from digipersona.exceptions import ValidationFailed
from digipersona.kit.richtext import (
    Entity,
    find_entities,
    grapheme_boundaries,
    grapheme_length,
    linkedin_length,
    normalise_hashtag,
    utf8_length,
    utf16_length,
    x_weighted_length,
)

PLATFORMS = ("linkedin", "x", "bluesky", "webhook")
DEFAULT_MAX_PARTS = 25


@dataclass(frozen=True)
class PlatformTextRules:
    """How one platform counts and limits text (and, for the media checks, images)."""

    platform: str
    label: str
    limit: int
    unit: str
    byte_limit: int | None = None
    supports_threads: bool = False
    max_parts: int = DEFAULT_MAX_PARTS
    comment_limit: int | None = None
    max_images: int = 4
    max_image_bytes: int = 5_000_000


RULES: dict[str, PlatformTextRules] = {
    # Image limits: X 5 MB x4 (platform-apis 1.3), Bluesky 2 MB x4 (2.3, checklist 10),
    # LinkedIn up to 20 images in a multiImage post (3.4).
    "x": PlatformTextRules("x", "X", 280, "weighted characters", supports_threads=True),
    "bluesky": PlatformTextRules(
        "bluesky",
        "Bluesky",
        300,
        "graphemes",
        byte_limit=3000,
        supports_threads=True,
        max_image_bytes=2_000_000,
    ),
    "linkedin": PlatformTextRules(
        "linkedin",
        "LinkedIn",
        3000,
        "characters after escaping",
        supports_threads=False,
        comment_limit=1250,
        max_images=20,
        max_image_bytes=10_000_000,
    ),
    "webhook": PlatformTextRules(
        "webhook", "Webhook", 100_000, "characters", max_images=20, max_image_bytes=10_000_000
    ),
}


def rules_for(platform: str) -> PlatformTextRules:
    """The text rules of ``platform``; an unknown id is a validation error naming the known ones."""
    try:
        return RULES[platform]
    except KeyError:
        raise ValidationFailed(
            f"Unknown platform {platform!r}: use one of {', '.join(PLATFORMS)}."
        ) from None


# -- counting ------------------------------------------------------------------------------------
def length(platform: str, text: str) -> int:
    """The text's length in the platform's own unit."""
    if platform == "x":
        return x_weighted_length(text)
    if platform == "bluesky":
        return grapheme_length(text)
    if platform == "linkedin":
        return linkedin_length(text)
    rules_for(platform)
    return len(text)


def fits(platform: str, text: str) -> bool:
    """Whether ``text`` fits in one part (both limits on Bluesky); cheap bounds checked first."""
    rules = rules_for(platform)
    if platform == "x":
        # Every whitespace-separated token weighs at least 1, and so does each space between
        # two tokens: a quick refusal before the slow exact count for very long text.
        if 2 * len(text.split()) - 1 > rules.limit:
            return False
        return x_weighted_length(text) <= rules.limit
    if platform == "bluesky":
        assert rules.byte_limit is not None
        if utf8_length(text) > rules.byte_limit:
            return False
        return grapheme_length(text, rules.limit + 1) <= rules.limit
    if platform == "linkedin":
        # Escaping only ever adds units, and UTF-16 never has fewer units than code points.
        return len(text) <= rules.limit and linkedin_length(text) <= rules.limit
    return len(text) <= rules.limit


@dataclass(frozen=True)
class Measurement:
    """A text's length against one platform's limit (Bluesky: graphemes and bytes)."""

    platform: str
    length: int
    limit: int
    unit: str
    ok: bool
    utf8_bytes: int | None = None
    byte_limit: int | None = None


def measure(platform: str, text: str) -> Measurement:
    """Length in the platform's unit, the limit, and whether it fits (Bluesky also in bytes)."""
    rules = rules_for(platform)
    n = length(platform, text)
    if rules.byte_limit is not None:
        size = utf8_length(text)
        return Measurement(
            platform,
            n,
            rules.limit,
            rules.unit,
            n <= rules.limit and size <= rules.byte_limit,
            size,
            rules.byte_limit,
        )
    return Measurement(platform, n, rules.limit, rules.unit, n <= rules.limit)


# -- the variant ---------------------------------------------------------------------------------
@dataclass
class Variant:
    """The post as one platform gets it, with what to change when it does not fit."""

    platform: str
    parts: list[str]
    lengths: list[int]
    valid: bool
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``{platform, parts, lengths, valid, problems}``."""
        return {
            "platform": self.platform,
            "parts": list(self.parts),
            "lengths": list(self.lengths),
            "valid": self.valid,
            "problems": list(self.problems),
        }


# -- cutting text into pieces --------------------------------------------------------------------
@dataclass(frozen=True)
class _Piece:
    text: str
    sep: str  # the source's whitespace before it; dropped when a part starts here


_PARAGRAPH_BREAK = re.compile(r"\s*\n[^\S\n]*\n\s*")
_LINE_BREAK = re.compile(r"[^\S\n]*\n\s*")
# A sentence ends at . ! ? … (and the Arabic, Urdu and Devanagari stops) followed by space,
# after any closing quotes or brackets; CJK full stops end one even without a space.
_SENTENCE_END = re.compile(
    r"[.!?…؟۔।]+[\"'”’»)\]]*(\s+)|[。！？]+[」』）\"”’]*(\s*)",
)
_WHITESPACE = re.compile(r"\s+")


def _split_on(pattern: re.Pattern[str], text: str) -> list[tuple[str, str]]:
    """(separator before, piece) pairs for the pieces between matches of ``pattern``."""
    out: list[tuple[str, str]] = []
    sep, start = "", 0
    for match in pattern.finditer(text):
        if match.end() == len(text) or match.start() == 0:
            continue
        out.append((sep, text[start : match.start()]))
        sep, start = match.group(0), match.end()
    out.append((sep, text[start:]))
    return [(s, p) for s, p in out if p]


def _split_sentences(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    sep, start = "", 0
    for match in _SENTENCE_END.finditer(text):
        ws = match.group(1) if match.group(1) is not None else match.group(2) or ""
        cut = match.end() - len(ws)
        if match.end() >= len(text):
            continue
        out.append((sep, text[start:cut]))
        sep, start = ws, match.end()
    out.append((sep, text[start:]))
    return [(s, p) for s, p in out if p]


_SPLITTERS: tuple[Callable[[str], list[tuple[str, str]]], ...] = (
    lambda text: _split_on(_PARAGRAPH_BREAK, text),
    lambda text: _split_on(_LINE_BREAK, text),
    _split_sentences,
    lambda text: _split_on(_WHITESPACE, text),
)


def _cut_word(word: str, sep: str, ok: Callable[[str], bool]) -> list[_Piece]:
    """A word too long for a part, cut between clusters but never inside an entity."""
    entities = find_entities(word)
    bounds = [
        b for b in grapheme_boundaries(word) if not any(e.start < b < e.end for e in entities)
    ]
    pieces: list[_Piece] = []
    at = 0  # index into bounds of the current start
    while bounds[at] < len(word):
        start = bounds[at]
        # The furthest boundary whose piece fits; at least the next one, even when that piece is
        # too long (an unbreakable URL or cluster), so the loop always advances.
        lo, hi = at + 1, len(bounds) - 1
        if ok(word[start : bounds[lo]]):
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if ok(word[start : bounds[mid]]):
                    lo = mid
                else:
                    hi = mid - 1
        pieces.append(_Piece(word[start : bounds[lo]], sep if not pieces else ""))
        at = lo
    return pieces


def _pieces(text: str, ok: Callable[[str], bool]) -> list[_Piece]:
    """The text as pieces that each fit (except unbreakable ones), coarsest level first."""
    out: list[_Piece] = []

    def descend(piece: str, sep: str, level: int) -> None:
        if ok(piece):
            out.append(_Piece(piece, sep))
            return
        if level == len(_SPLITTERS):
            out.extend(_cut_word(piece, sep, ok))
            return
        chunks = _SPLITTERS[level](piece)
        if len(chunks) == 1:
            descend(piece, sep, level + 1)
            return
        for index, (chunk_sep, chunk) in enumerate(chunks):
            descend(chunk, sep if index == 0 else chunk_sep, level + 1)

    descend(text, "", 0)
    return out


def _join(pieces: Sequence[_Piece]) -> str:
    return pieces[0].text + "".join(p.sep + p.text for p in pieces[1:])


def _pack(pieces: Sequence[_Piece], ok: Callable[[str], bool]) -> list[str]:
    """Greedy packing: each part takes as many following pieces as fit (at least one)."""
    parts: list[str] = []
    n = len(pieces)
    i = 0
    while i < n:
        # Galloping, then binary search, for the furthest end that fits: a part costs O(log n)
        # counts instead of one per piece, which matters with X's slow weighted counter. Lengths
        # only grow as pieces are added, so the search is exact.
        good, bad, step = i + 1, n + 1, 1
        while good < n:
            end = min(good + step, n)
            if ok(_join(pieces[i:end])):
                good, step = end, step * 2
            else:
                bad = end
                break
        while bad - good > 1:
            mid = (good + bad) // 2
            if ok(_join(pieces[i:mid])):
                good = mid
            else:
                bad = mid
        parts.append(_join(pieces[i:good]))
        i = good
    return parts


def _clean_tags(tags: Sequence[str], text: str) -> list[str]:
    """Tags normalised to ``#tag``, without those already in the text or repeated (any case)."""
    seen = {e.value.casefold() for e in find_entities(text) if e.kind == "hashtag"}
    out: list[str] = []
    for raw in tags:
        tag = normalise_hashtag(raw)
        if tag is not None and tag[1:].casefold() not in seen:
            seen.add(tag[1:].casefold())
            out.append(tag)
    return out


def _append_fitting(
    text: str, tags: Sequence[str], sep: str, ok: Callable[[str], bool], limit: int | None = None
) -> tuple[str, list[str]]:
    """``text`` plus each tag that still fits (others skipped, at most ``limit``), and those."""
    placed: list[str] = []
    for tag in tags:
        if limit is not None and len(placed) >= limit:
            break
        if ok(text + sep + " ".join([*placed, tag])):
            placed.append(tag)
    return (text + sep + " ".join(placed) if placed else text), placed


def _thread(
    platform: str, text: str, numbering: bool, tags: Sequence[str], limit: int | None = None
) -> tuple[list[str], list[str]]:
    """Parts without numbering suffixes, hashtags on the last one, and the tags placed."""

    def attempt(reserve: str) -> tuple[list[str], list[str]]:
        def ok(candidate: str) -> bool:
            return fits(platform, candidate + reserve)

        parts = _pack(_pieces(text, ok), ok)
        parts[-1], placed = _append_fitting(parts[-1], tags, " ", ok, limit)
        return parts, placed

    parts, placed = attempt("")
    if numbering and len(parts) > 1:
        # Reserve room for the widest suffix " n/n"; more parts can mean more digits, so repeat
        # until the digit count is stable (it only grows, so this ends quickly).
        digits = len(str(len(parts)))
        while True:
            parts, placed = attempt(f" {'9' * digits}/{'9' * digits}")
            if len(str(len(parts))) <= digits:
                break
            digits = len(str(len(parts)))
    return parts, placed


def split_thread(
    platform: str,
    text: str,
    *,
    numbering: bool = False,
    hashtags: Sequence[str] = (),
    hashtag_limit: int | None = None,
) -> list[str]:
    """Split ``text`` into thread parts (with " i/n" numbering when asked and several parts)."""
    rules_for(platform)
    text = text.strip()
    if not text:
        return []
    parts, _ = _thread(platform, text, numbering, _clean_tags(hashtags, text), hashtag_limit)
    if numbering and len(parts) > 1:
        parts = [f"{part} {i}/{len(parts)}" for i, part in enumerate(parts, start=1)]
    return parts


def place_hashtags(
    platform: str,
    text: str,
    tags: Sequence[str],
    *,
    numbering: bool = False,
    limit: int | None = None,
) -> str:
    """``text`` with ``tags`` where the platform expects them, skipping those that do not fit.

    LinkedIn and webhooks get a final line of hashtags; X and Bluesky get them at the end of
    the last thread part, after a space (``numbering`` as the thread will be numbered). At most
    ``limit`` tags are placed: a tag that does not fit leaves room for the next one.
    """
    rules = rules_for(platform)
    body = text.strip()
    tags = _clean_tags(tags, body)
    if not tags or not body:
        return text
    if rules.supports_threads:
        _, placed = _thread(platform, body, numbering, tags, limit)
        sep = " "
    else:
        _, placed = _append_fitting(body, tags, "\n\n", lambda s: fits(platform, s), limit)
        sep = "\n\n"
    return body + sep + " ".join(placed) if placed else text


# -- problems ------------------------------------------------------------------------------------
_ENTITY_NAMES = {"url": "link", "mention": "mention", "hashtag": "hashtag"}


def _overflow(rules: PlatformTextRules, text: str, label: str) -> list[str]:
    """What to change so ``text`` fits one part, or nothing when it fits."""
    m = measure(rules.platform, text)
    problems: list[str] = []
    if m.length > m.limit:
        problem = (
            f"{label} is {m.length}/{m.limit} {rules.unit} on {rules.label}: "
            f"shorten by {m.length - m.limit}"
        )
        problems.append(problem + _unbreakable_hint(rules, text) + ".")
    if m.byte_limit is not None and m.utf8_bytes is not None and m.utf8_bytes > m.byte_limit:
        problems.append(
            f"{label} is {m.utf8_bytes}/{m.byte_limit} UTF-8 bytes on {rules.label}: "
            f"shorten by {m.utf8_bytes - m.byte_limit} bytes{_unbreakable_hint(rules, text)}."
        )
    return problems


def _unbreakable_hint(rules: PlatformTextRules, part: str) -> str:
    """Why a thread part could not be cut smaller, when that is the reason it overflows."""
    if not rules.supports_threads:
        return ""
    too_long: Entity | None = next(
        (e for e in find_entities(part) if not fits(rules.platform, part[e.start : e.end])), None
    )
    if too_long is not None:
        shown = part[too_long.start : too_long.end]
        shown = shown if len(shown) <= 40 else shown[:40] + "…"
        kind = _ENTITY_NAMES[too_long.kind]
        fix = "shorten the link or use a link card" if kind == "link" else f"shorten the {kind}"
        return f"; it holds one {kind} ({shown}) that cannot be split: {fix}"
    if len(grapheme_boundaries(part)) == 2:
        return "; it is a single character cluster that cannot be split"
    return ""


def build_variant(
    platform: str,
    body: str,
    *,
    hashtags: Sequence[str] = (),
    hashtag_limit: int | None = None,
    numbering: bool = False,
    max_parts: int | None = None,
    linkedin_comment: str | None = None,
) -> Variant:
    """The post as ``platform`` gets it: parts, lengths, validity and what to change.

    ``hashtags`` are placed the platform's way and skipped when they do not fit (at most
    ``hashtag_limit`` of them); tags already in the body are not repeated. ``linkedin_comment``
    is checked as plain text (LinkedIn only).
    """
    rules = rules_for(platform)
    text = body.strip()
    if not text:
        return Variant(platform, [], [], False, ["The text is empty: write something to post."])
    problems: list[str] = []
    if rules.supports_threads:
        parts = split_thread(
            platform, text, numbering=numbering, hashtags=hashtags, hashtag_limit=hashtag_limit
        )
        for index, part in enumerate(parts, start=1):
            problems += _overflow(rules, part, f"Part {index}")
        allowed = max_parts if max_parts is not None else rules.max_parts
        if len(parts) > allowed:
            excess = sum(length(platform, p) for p in parts[allowed:])
            problems.append(
                f"The thread needs {len(parts)} parts on {rules.label}; at most {allowed} are "
                f"allowed: shorten by about {excess} {rules.unit}."
            )
    else:
        parts = [place_hashtags(platform, text, hashtags, limit=hashtag_limit)]
        problems += _overflow(rules, parts[0], "The text")
    if linkedin_comment is not None and rules.comment_limit is not None:
        problems += _comment_problems(rules, linkedin_comment)
    lengths = [length(platform, p) for p in parts]
    return Variant(platform, parts, lengths, not problems, problems)


def _comment_problems(rules: PlatformTextRules, comment: str) -> list[str]:
    # Comments are plain text, never little text (platform-apis 3.4, checklist 18).
    assert rules.comment_limit is not None
    n = utf16_length(comment.strip())
    if n <= rules.comment_limit:
        return []
    return [
        f"The {rules.label} follow-up comment is {n}/{rules.comment_limit} characters: "
        f"shorten by {n - rules.comment_limit}."
    ]


def fit_post(
    platform: str,
    body: str,
    persona_hashtags: Sequence[str] = (),
    *,
    numbering: bool = False,
    linkedin_comment: str | None = None,
    max_parts: int | None = None,
    cap: int | None = None,
) -> Variant:
    """A post's variant with the persona's hashtags merged, capped and placed the platform's way."""
    # Imported here: hashtags builds on this module's placement.
    from digipersona.posts.hashtags import missing_tags, room_for_tags

    return build_variant(
        platform,
        body,
        hashtags=missing_tags(body, persona_hashtags),
        hashtag_limit=room_for_tags(body, platform, cap),
        numbering=numbering,
        max_parts=max_parts,
        linkedin_comment=linkedin_comment,
    )
