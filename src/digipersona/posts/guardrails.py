"""Checks a draft must pass before review, each violation saying what to change.

- ``empty``: nothing but whitespace (then no other check runs).
- ``banned_phrase``: a phrase the persona never says, matched case-insensitively (casefold +
  NFKC, so "ß"/"SS" and full-width letters match) on word boundaries that know about combining
  marks. Scripts written without spaces (CJK, kana, Thai, Lao, Khmer, Myanmar) have no word
  boundaries, so a phrase edge in those scripts matches anywhere.
- ``blocked_domain``: a link to a blocked domain or any of its subdomains, with or without a
  scheme, internationalised names compared in their ASCII (punycode) form.
- ``near_duplicate``: similarity >= 0.85 with one of the persona's recent posts, after
  normalising both (casefold, NFKC, no URLs, punctuation or repeated spaces).
- ``too_long``: the text cannot be published on one of the post's platforms even as a thread
  (LinkedIn over 3000, too many parts, a link longer than a Bluesky post).

Similarity is the Jaccard index of character 5-gram shingle sets. Why not difflib's
SequenceMatcher: it is quadratic on repetitive text (seconds per pair for long posts with a small
vocabulary, minutes for 200 recent posts), its ``autojunk`` heuristic ignores every word above 1%
frequency in texts over 200 tokens, and it scores a post whose paragraphs were reordered as new.
Why characters and not words: word shingles see nothing in CJK or Thai text (one "word" per
sentence), and one changed word costs three word 3-grams, so on a 25-word post a single edit
already drops below 0.85. Shingle sets are linear in the text length: 200 recent posts of 3000
characters take well under a second.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from digipersona.kit.domains import blocked_hosts, readable
from digipersona.kit.richtext import normalise_for_compare
from digipersona.posts.variants import build_variant, rules_for

NEAR_DUPLICATE = 0.85
SHINGLE_SIZE = 5

ViolationCode = Literal["banned_phrase", "near_duplicate", "empty", "too_long", "blocked_domain"]


@dataclass(frozen=True)
class Violation:
    """One reason a draft cannot go to review, with what to change."""

    code: ViolationCode
    message: str
    detail: str | None = None


# -- banned phrases ------------------------------------------------------------------------------
_UNSPACED_SCRIPTS = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_" or unicodedata.category(char)[0] == "M"


def _needs_boundary(char: str) -> bool:
    code = ord(char)
    unspaced = any(lo <= code <= hi for lo, hi in _UNSPACED_SCRIPTS)
    return _is_word_char(char) and not unspaced


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def _banned(body: str, phrases: Sequence[str]) -> list[Violation]:
    text = _fold(body)
    out: list[Violation] = []
    seen: set[str] = set()
    for phrase in phrases:
        folded = " ".join(_fold(phrase).split())
        if not folded or folded in seen:
            continue
        seen.add(folded)
        # Any run of whitespace (a line break included) between the phrase's words matches.
        pattern = re.compile(r"\s+".join(re.escape(word) for word in folded.split(" ")))
        left, right = _needs_boundary(folded[0]), _needs_boundary(folded[-1])
        for match in pattern.finditer(text):
            start, end = match.span()
            if left and start > 0 and _is_word_char(text[start - 1]):
                continue
            if right and end < len(text) and _is_word_char(text[end]):
                continue
            out.append(
                Violation(
                    "banned_phrase",
                    f"Remove or reword “{phrase.strip()}”: this persona never uses that phrase.",
                    phrase.strip(),
                )
            )
            break
    return out


# -- blocked domains -----------------------------------------------------------------------------
def _blocked(body: str, blocked: Sequence[str]) -> list[Violation]:
    return [
        Violation(
            "blocked_domain",
            f"Remove the link to {readable(host)}: links to {readable(domain)} "
            "are blocked for this persona.",
            domain,
        )
        for host, domain in blocked_hosts(body, blocked)
    ]


def blocked_link(url: str, blocked: Sequence[str]) -> list[Violation]:
    """A post's link (published as a card, apart from the body) to a blocked domain."""
    return _blocked(url, blocked)


# -- near duplicates -----------------------------------------------------------------------------
def shingles(text: str) -> set[str]:
    """Character 5-grams of the normalised text (the whole text when shorter)."""
    norm = normalise_for_compare(text)
    if len(norm) <= SHINGLE_SIZE:
        return {norm} if norm else set()
    return {norm[i : i + SHINGLE_SIZE] for i in range(len(norm) - SHINGLE_SIZE + 1)}


def similarity(a: str, b: str) -> float:
    """0..1 similarity of two texts: Jaccard index of their character 5-gram shingles (the
    measure the near-duplicate check uses; benchmarks/draft_quality.py reports it too)."""
    sa, sb = shingles(a), shingles(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def _near_duplicates(body: str, recent: Sequence[str]) -> list[Violation]:
    mine = shingles(body)
    if not mine:
        return []
    best, best_other = 0.0, ""
    for other in recent:
        theirs = shingles(other)
        if not theirs:
            continue
        small, large = sorted((len(mine), len(theirs)))
        if small / large < NEAR_DUPLICATE:
            continue  # Jaccard <= |smaller| / |larger|: cannot reach the threshold
        score = len(mine & theirs) / len(mine | theirs)
        if score > best:
            best, best_other = score, other
    if best < NEAR_DUPLICATE:
        return []
    first_line = best_other.strip().splitlines()[0] if best_other.strip() else ""
    preview = first_line if len(first_line) <= 60 else first_line[:60] + "…"
    return [
        Violation(
            "near_duplicate",
            f"This is {int(best * 100)}% the same as a recent post (“{preview}”): say something "
            "new or change the angle.",
            f"{best:.2f}",
        )
    ]


# -- length --------------------------------------------------------------------------------------
def _too_long(body: str, platforms: Sequence[str]) -> list[Violation]:
    out: list[Violation] = []
    for platform in dict.fromkeys(platforms):
        variant = build_variant(platform, body)
        if not variant.valid:
            rules = rules_for(platform)
            out.append(
                Violation(
                    "too_long",
                    f"Too long for {rules.label}: " + " ".join(variant.problems),
                    platform,
                )
            )
    return out


def check(
    body: str,
    *,
    banned_phrases: Sequence[str] = (),
    recent_bodies: Sequence[str] = (),
    blocked_domains: Sequence[str] = (),
    platforms: Sequence[str] = (),
) -> list[Violation]:
    """Every guardrail violation of a draft (an empty list: fine to send to review)."""
    if not body.strip():
        return [
            Violation("empty", "The post is empty: write something before sending it for review.")
        ]
    return [
        *_banned(body, banned_phrases),
        *_blocked(body, blocked_domains),
        *_near_duplicates(body, recent_bodies),
        *_too_long(body, platforms),
    ]
