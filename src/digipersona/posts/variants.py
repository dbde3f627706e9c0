"""Fitting a post's text to each platform: counting, thread splitting, validity with reasons.

Counting is each platform's own (platform-apis.md): X weighted length 280, Bluesky 300
graphemes AND 3000 UTF-8 bytes, LinkedIn 3000 UTF-16 units after little-text escaping (its
follow-up comment 1250, plain text). Long text becomes a thread on X and Bluesky, split at
paragraphs, then sentences, then words; never inside a URL, mention, hashtag or grapheme
cluster (text is only split at whitespace, and a word too long for a part is split at grapheme
boundaries unless it is an entity, which makes the variant invalid with the reason).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from digipersona.kit.richtext import (
    HASHTAG_RE,
    MENTION_RE,
    URL_RE,
    grapheme_length,
    graphemes,
    linkedin_length,
    utf8_length,
    x_weighted_length,
)


@dataclass(frozen=True)
class PlatformTextRules:
    platform: str
    label: str
    limit: int
    unit: str
    byte_limit: int | None = None
    supports_threads: bool = False
    max_parts: int = 25
    comment_limit: int | None = None
    max_images: int = 4
    max_image_bytes: int = 5_000_000


RULES: dict[str, PlatformTextRules] = {
    # Image limits: X 5 MB x4 (platform-apis 1.3), Bluesky 2 MB x4 (2.3/6), LinkedIn 20 images.
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
        comment_limit=1250,
        max_images=20,
        max_image_bytes=10_000_000,
    ),
    "webhook": PlatformTextRules(
        "webhook", "Webhook", 100_000, "characters", max_images=20, max_image_bytes=10_000_000
    ),
}


def length(platform: str, text: str) -> int:
    """The text's length in the platform's own counting."""
    if platform == "x":
        return x_weighted_length(text)
    if platform == "bluesky":
        return grapheme_length(text)
    if platform == "linkedin":
        return linkedin_length(text)
    return len(text)


def fits(platform: str, text: str) -> bool:
    rules = RULES[platform]
    if length(platform, text) > rules.limit:
        return False
    return rules.byte_limit is None or utf8_length(text) <= rules.byte_limit


@dataclass(frozen=True)
class Measurement:
    length: int
    limit: int
    ok: bool
    utf8_bytes: int | None = None
    byte_limit: int | None = None


def measure(platform: str, text: str) -> Measurement:
    """Length, limit and whether it fits (Bluesky also reports bytes)."""
    rules = RULES[platform]
    n = length(platform, text)
    if rules.byte_limit is not None:
        b = utf8_length(text)
        return Measurement(
            n, rules.limit, n <= rules.limit and b <= rules.byte_limit, b, rules.byte_limit
        )
    return Measurement(n, rules.limit, n <= rules.limit)


@dataclass
class Variant:
    platform: str
    parts: list[str]
    lengths: list[int]
    valid: bool
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "parts": list(self.parts),
            "lengths": list(self.lengths),
            "valid": self.valid,
            "problems": list(self.problems),
        }


class _Unsplittable(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])\s+")
_PARAGRAPH = re.compile(r"\n\s*\n")


def _is_entity(word: str) -> bool:
    core = word.strip("()[]{}\"'.,;:!?")
    return bool(URL_RE.fullmatch(core) or MENTION_RE.fullmatch(core) or HASHTAG_RE.fullmatch(core))


def _atoms(text: str, ok: Callable[[str], bool], rules: PlatformTextRules) -> list[tuple[str, str]]:
    """(piece, separator before it): whole sentences when they fit, else words, else graphemes."""
    atoms: list[tuple[str, str]] = []
    for p_index, paragraph in enumerate(_PARAGRAPH.split(text.strip())):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        lead = "\n\n" if p_index and atoms else ""
        for s_index, sentence in enumerate(_SENTENCE_END.split(paragraph)):
            sep = lead if s_index == 0 else " "
            if ok(sentence):
                atoms.append((sentence, sep))
                continue
            for w_index, word in enumerate(sentence.split(" ")):
                if not word:
                    continue
                wsep = sep if w_index == 0 else " "
                if ok(word):
                    atoms.append((word, wsep))
                    continue
                if _is_entity(word):
                    n = length(rules.platform, word)
                    raise _Unsplittable(
                        f"{word[:40]}… is {n} {rules.unit} and cannot be split; {rules.label} "
                        f"allows {rules.limit} per part: shorten it"
                        + (" or use a link card." if URL_RE.search(word) else ".")
                    )
                chunk = ""
                for cluster in graphemes(word):
                    if chunk and not ok(chunk + cluster):
                        atoms.append((chunk, wsep))
                        wsep, chunk = "", cluster
                    else:
                        chunk += cluster
                if chunk:
                    atoms.append((chunk, wsep))
    return atoms


def _pack(atoms: Sequence[tuple[str, str]], ok: Callable[[str], bool]) -> list[str]:
    parts: list[str] = []
    current = ""
    for piece, sep in atoms:
        candidate = piece if not current else current + sep + piece
        if ok(candidate):
            current = candidate
        else:
            if current:
                parts.append(current)
            current = piece
    if current:
        parts.append(current)
    return parts


def split_thread(
    platform: str, text: str, *, numbering: bool = False, hashtags: Sequence[str] = ()
) -> list[str]:
    """Split text into parts that each fit (with " i/n" numbering when asked)."""
    rules = RULES[platform]
    total_guess = 1
    for _ in range(4):
        reserve = f" {total_guess}/{total_guess}" if numbering else ""
        reserve = reserve.replace("1", "9") if numbering else ""

        def ok(candidate: str, reserve: str = reserve) -> bool:
            return fits(platform, candidate + reserve)

        parts = _pack(_atoms(text, ok, rules), ok)
        if not numbering or len(str(len(parts))) <= len(str(total_guess)):
            break
        total_guess = len(parts)
    if hashtags and parts:
        last = parts[-1]
        for tag in hashtags:
            candidate = f"{last} {tag}"
            if ok(candidate):
                last = candidate
        parts[-1] = last
    if numbering and len(parts) > 1:
        parts = [f"{part} {i}/{len(parts)}" for i, part in enumerate(parts, start=1)]
    return parts


def _overflow_problem(rules: PlatformTextRules, text: str, label: str = "The text") -> list[str]:
    m = measure(rules.platform, text)
    problems = []
    if m.length > m.limit:
        problems.append(
            f"{label} is {m.length}/{m.limit} {rules.unit} on {rules.label}: shorten by "
            f"{m.length - m.limit}."
        )
    if m.byte_limit is not None and m.utf8_bytes is not None and m.utf8_bytes > m.byte_limit:
        problems.append(
            f"{label} is {m.utf8_bytes}/{m.byte_limit} UTF-8 bytes on {rules.label}: shorten by "
            f"{m.utf8_bytes - m.byte_limit} bytes."
        )
    return problems


def build_variant(
    platform: str,
    body: str,
    *,
    hashtags: Sequence[str] = (),
    numbering: bool = False,
    max_parts: int | None = None,
    linkedin_comment: str | None = None,
) -> Variant:
    """The post as ``platform`` gets it: parts, lengths, validity and what to change."""
    rules = RULES[platform]
    text = body.strip()
    if not text:
        return Variant(platform, [], [], False, ["The text is empty: write something to post."])
    limit_parts = max_parts or rules.max_parts
    problems: list[str] = []
    if not rules.supports_threads:
        parts = [text if not hashtags else f"{text}\n\n{' '.join(hashtags)}"]
        problems += _overflow_problem(rules, parts[0])
        if linkedin_comment and rules.comment_limit:
            n = len(linkedin_comment)
            if n > rules.comment_limit:
                problems.append(
                    f"The follow-up comment is {n}/{rules.comment_limit} characters: shorten by "
                    f"{n - rules.comment_limit}."
                )
    else:
        try:
            parts = split_thread(platform, text, numbering=numbering, hashtags=hashtags)
        except _Unsplittable as exc:
            parts = [text]
            problems.append(exc.message)
        if len(parts) > limit_parts:
            capacity = limit_parts * rules.limit
            total = sum(length(platform, p) for p in parts)
            problems.append(
                f"This needs {len(parts)} parts on {rules.label}; at most {limit_parts} are "
                f"allowed: shorten by about {max(1, total - capacity)} {rules.unit}."
            )
        for index, part in enumerate(parts, start=1):
            if not fits(platform, part) and not problems:
                problems += _overflow_problem(rules, part, f"Part {index}")
    lengths = [length(platform, p) for p in parts]
    return Variant(platform, parts, lengths, not problems, problems)


def fit_post(
    platform: str,
    body: str,
    persona_hashtags: Sequence[str] = (),
    *,
    numbering: bool = False,
    linkedin_comment: str | None = None,
) -> Variant:
    """A post's variant with the persona's hashtags placed the platform's way."""
    from digipersona.posts.hashtags import tags_to_add

    return build_variant(
        platform,
        body,
        hashtags=tags_to_add(body, persona_hashtags, platform),
        numbering=numbering,
        linkedin_comment=linkedin_comment,
    )
