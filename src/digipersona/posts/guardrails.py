"""Checks a draft must pass before review, each with what to change.

Near-duplicates: normalised text (casefold, NFKC, no URLs or punctuation) compared with
difflib's SequenceMatcher (ratio >= 0.85) against the persona's recent posts. ``quick_ratio``
and a length pre-check skip the expensive comparison for clearly different texts, so 200 recent
posts of 3000 characters stay fast.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from urllib.parse import urlsplit

from digipersona.kit.richtext import URL_RE, normalise_for_compare

NEAR_DUPLICATE = 0.85


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


def similarity(a: str, b: str) -> float:
    """0..1 similarity of two normalised texts."""
    if not a or not b:
        return 0.0
    shorter, longer = sorted((len(a), len(b)))
    if shorter / longer < NEAR_DUPLICATE:
        return shorter / longer
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.quick_ratio() < NEAR_DUPLICATE:
        return matcher.quick_ratio()
    return matcher.ratio()


def _near_duplicates(body: str, recent: Sequence[str]) -> list[Violation]:
    mine = normalise_for_compare(body)
    for other in recent:
        score = similarity(mine, normalise_for_compare(other))
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
