"""Checks a draft must pass before review, each with what to change.

Near-duplicates: normalised text (casefold, NFKC, no URLs or punctuation) compared with the
persona's recent posts by the Jaccard similarity of word 3-shingles (>= 0.8). Shingles are
linear in the text length, so 200 recent posts of 3000 characters take milliseconds, where a
character diff (difflib) took tens of seconds on long posts with a shared vocabulary. Very short
texts (under three words) compare as whole strings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from digipersona.kit.richtext import URL_RE, normalise_for_compare

NEAR_DUPLICATE = 0.8


@dataclass(frozen=True)
class Violation:
    code: str
    message: str
    detail: str | None = None


def _banned(body: str, phrases: Sequence[str]) -> list[Violation]:
    out = []
    for phrase in phrases:
        phrase = phrase.strip()
        if not phrase:
            continue
        pattern = re.compile(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", re.IGNORECASE | re.UNICODE)
        match = pattern.search(body)
        if match:
            out.append(
                Violation(
                    "banned_phrase",
                    f"Remove the banned phrase “{match.group(0)}” (the persona never says it).",
                    phrase,
                )
            )
    return out


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = text.split()
    if len(words) < 3:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def similarity(a: str, b: str) -> float:
    """0..1 similarity of two normalised texts (Jaccard of word 3-shingles)."""
    sa, sb = _shingles(a), _shingles(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def _near_duplicates(body: str, recent: Sequence[str]) -> list[Violation]:
    mine = _shingles(normalise_for_compare(body))
    for other in recent:
        theirs = _shingles(normalise_for_compare(other))
        score = len(mine & theirs) / len(mine | theirs) if mine and theirs else 0.0
        if score >= NEAR_DUPLICATE:
            preview = other.strip().splitlines()[0][:60] if other.strip() else ""
            return [
                Violation(
                    "near_duplicate",
                    f"This is {round(score * 100)}% the same as a recent post (“{preview}…”): "
                    "say something new or change the angle.",
                    f"{score:.2f}",
                )
            ]
    return []


def _domain(url: str) -> str:
    if "://" not in url:
        url = "https://" + url
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def _blocked(body: str, blocked: Sequence[str]) -> list[Violation]:
    out = []
    domains = [d.lower().strip(".") for d in blocked if d.strip()]
    for match in URL_RE.finditer(body):
        host = _domain(match.group(0))
        for domain in domains:
            if host == domain or host.endswith("." + domain):
                out.append(
                    Violation(
                        "blocked_domain",
                        f"Remove the link to {host}: links to {domain} are not allowed for "
                        "this persona.",
                        domain,
                    )
                )
                break
    return out


def check(
    body: str,
    *,
    banned_phrases: Sequence[str] = (),
    recent_bodies: Sequence[str] = (),
    blocked_domains: Sequence[str] = (),
    platforms: Sequence[str] = (),
) -> list[Violation]:
    """Every guardrail violation of a draft (empty list: fine to review)."""
    if not body.strip():
        return [
            Violation("empty", "The post is empty: write something before sending it for review.")
        ]
    return [
        *_banned(body, banned_phrases),
        *_blocked(body, blocked_domains),
        *_near_duplicates(body, recent_bodies),
    ]
