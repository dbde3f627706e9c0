"""Lead detection: score an interaction 0-100 from transparent rules, optionally with an LLM.

How a score is made
-------------------
1. The text, the author's bio and the author's name are *normalised* (``normalise``): NFKD with
   accents stripped, case-folded, typographic quotes and dashes made ASCII, whitespace collapsed.
   A map from every normalised character back to the original lets reasons quote the author's
   own words ("asks about pricing: 'How much do you charge'").
2. Every rule of ``lead_rules.RULES`` runs on its source (text, bio or name). A rule counts once,
   plus ``REPEAT_BONUS`` per extra distinct match of the same rule (capped at ``REPEAT_CAP``), so
   one long comment repeating "budget" five times cannot outweigh a direct ask.
3. A positive text match preceded in its clause (last ``NEGATION_WINDOW`` words) by a negator
   ("not", "kein", "pas", "no", "nao"...) does not count; it adds the ``negated`` signal instead.
   Company context, decision-maker and title signals are exempt: "no" is also Portuguese for
   "in the", and "not only our team" still describes a team.
4. ``praise_only`` counts only when no positive rule matched: praise in front of a real request
   ("Great post! Can we talk?") is how many leads open.
5. ``raw = BIAS + sum(weights)`` is squashed with the logistic function into 0-100. ``BIAS`` is
   -3.0, so a comment with no signal scores 5, one strong ask (+3.3 to +3.5) alone crosses the
   50 threshold, and an ask with company context lands around 85. ``is_lead`` is score >= 50.

An optional classifier (any object with ``classify_lead(text) -> (score, reasons) | None``, which
every ``generation`` provider has) is averaged with the rules; its reasons are prefixed "AI:". A
classifier that raises is ignored: the rules still score, and a reason says it was unavailable.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, Protocol

from digipersona.interactions.lead_rules import RULES, Rule, Source

LEAD_THRESHOLD: Final = 50
BIAS: Final = -3.0
REPEAT_BONUS: Final = 0.5
REPEAT_CAP: Final = 1.0
NEGATION_WINDOW: Final = 3
NEGATED_WEIGHT: Final = -3.0
_QUOTE_MAX: Final = 80

# Signals whose wording stays true under a nearby negator (see the module docstring, step 3).
_NEGATION_EXEMPT: Final = frozenset(
    {"company_need", "decision_maker", "job_title", "company_account"}
)

_CHAR_MAP: Final = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201b": "'",
    "\u02bc": "'",
    "`": "'",
    "\u00b4": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2011": "-",
    "\u2010": "-",
}

_NEGATORS: Final = re.compile(
    r"\b(?:not|no|never|don'?t|doesn'?t|didn'?t|isn'?t|aren'?t|won'?t|wouldn'?t|can'?t|"
    r"nicht|kein|keine|keinen|keiner|nie|pas|jamais|aucun|aucune|nunca|ni|sin|nao|nem|sem)\b"
)
# Negators that do not negate the request after them ("why not book a call", "don't hesitate").
_NEGATION_EXCEPTIONS: Final = re.compile(
    r"\b(?:why not|warum nicht|pourquoi pas|por que no|porque no|por que nao|"
    r"don'?t hesitate|zogern sie nicht|n'hesitez pas|no dudes|nao hesite|not sure|no idea|"
    r"not only|nicht nur|pas seulement|no solo|nao so)\b"
)
_CLAUSE_BREAK: Final = re.compile(r"[.!?;:,\n]|\b(?:but|aber|mais|pero|mas)\b")


class LeadClassifier(Protocol):
    """An optional second opinion, e.g. a ``generation`` provider."""

    def classify_lead(self, text: str) -> tuple[int, list[str]] | None:
        """Return (score 0-100, reasons), or None for no opinion."""
        ...


@dataclass(frozen=True)
class LeadScore:
    """The verdict on one interaction: score, lead flag, human reasons and machine signal codes."""

    score: int
    is_lead: bool
    reasons: list[str]
    signals: list[str]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape stored on an interaction and shown in the API."""
        return {"score": self.score, "is_lead": self.is_lead, "reasons": list(self.reasons)}


@dataclass(frozen=True)
class _Normalised:
    text: str
    source_index: tuple[int, ...]
    original: str

    def quote(self, start: int, end: int) -> str:
        if start >= end or not self.source_index:
            return ""
        first = self.source_index[start]
        last = self.source_index[end - 1] + 1
        snippet = " ".join(self.original[first:last].split())
        if len(snippet) > _QUOTE_MAX:
            snippet = snippet[: _QUOTE_MAX - 1].rstrip() + "…"
        return snippet


@dataclass
class _Hit:
    rule: Rule
    quote: str
    count: int = 1


def _normalise_mapped(text: str) -> _Normalised:
    chars: list[str] = []
    index: list[int] = []
    pending_space = False
    for pos, raw in enumerate(text):
        mapped = _CHAR_MAP.get(raw, raw)
        for part in unicodedata.normalize("NFKD", mapped):
            if unicodedata.combining(part):
                continue
            for out in part.casefold():
                if out.isspace():
                    pending_space = bool(chars)
                    continue
                if pending_space:
                    chars.append(" ")
                    index.append(pos)
                    pending_space = False
                chars.append(out)
                index.append(pos)
    return _Normalised("".join(chars), tuple(index), text)


def normalise(text: str) -> str:
    """Fold ``text`` the way the rules expect: no accents, case-folded, ASCII quotes, one space."""
    return _normalise_mapped(text).text


@cache
def _compiled() -> tuple[tuple[Rule, re.Pattern[str]], ...]:
    """Every rule's patterns, compiled on first use (some 400 of them: 0.13 s that every
    process start paid, the web server's and each CLI command's)."""
    return tuple(
        (rule, re.compile(pattern))
        for rule in RULES
        for patterns in rule.patterns.values()
        for pattern in patterns
    )


def _negation_start(norm: str, start: int, end: int) -> int | None:
    """Where the negating words before a match begin (same clause), or None if not negated."""
    clause_start = 0
    for brk in _CLAUSE_BREAK.finditer(norm, 0, start):
        clause_start = brk.end()
    words = list(re.finditer(r"\S+", norm[clause_start:start]))[-NEGATION_WINDOW:]
    if not words:
        return None
    window_start = clause_start + words[0].start()
    window = norm[window_start:start]
    if not _NEGATORS.search(window) or _NEGATION_EXCEPTIONS.search(norm[window_start:end]):
        return None
    return window_start


def _collect(
    doc: _Normalised, source: Source, hits: dict[str, _Hit], negations: dict[str, str]
) -> None:
    for rule, pattern in _compiled():
        if rule.source != source:
            continue
        for match in pattern.finditer(doc.text):
            start, end = match.span()
            # Patterns may stop mid-word ("looking for a c"); quote up to the end of that word.
            while end < len(doc.text) and doc.text[end].isalnum():
                end += 1
            quote = doc.quote(start, end)
            if source == "text" and rule.positive and rule.code not in _NEGATION_EXEMPT:
                negated_from = _negation_start(doc.text, start, end)
                if negated_from is not None:
                    # One reason per rule, like its hits ("no budget, no budget" says it once).
                    negations.setdefault(
                        rule.code,
                        f"negated, not counted ({rule.label}): '{doc.quote(negated_from, end)}'",
                    )
                    continue
            hit = hits.get(rule.code)
            if hit is None:
                hits[rule.code] = _Hit(rule, quote)
            elif quote.casefold() != hit.quote.casefold():
                hit.count += 1


def _squash(raw: float) -> int:
    return max(0, min(100, round(100.0 / (1.0 + math.exp(-raw)))))


def _rules_score(
    text: str, author_name: str | None, author_bio: str | None
) -> tuple[int, list[str], list[str]]:
    hits: dict[str, _Hit] = {}
    negations: dict[str, str] = {}
    _collect(_normalise_mapped(text), "text", hits, negations)
    if author_bio and author_bio.strip():
        _collect(_normalise_mapped(author_bio), "bio", hits, negations)
    if author_name and author_name.strip():
        _collect(_normalise_mapped(author_name), "name", hits, negations)

    has_positive = any(h.rule.positive for h in hits.values())
    if has_positive:
        hits.pop("praise_only", None)

    raw = BIAS
    for hit in hits.values():
        raw += hit.rule.weight
        if hit.rule.positive:
            raw += min(REPEAT_CAP, REPEAT_BONUS * (hit.count - 1))
    if negations and "negated" not in hits:
        raw += NEGATED_WEIGHT

    ordered = sorted(hits.values(), key=lambda h: -h.rule.weight)
    reasons = [f"{h.rule.label}: '{h.quote}'" for h in ordered if h.rule.positive]
    reasons += [f"{h.rule.label}: '{h.quote}'" for h in ordered if not h.rule.positive]
    reasons += negations.values()
    if not reasons:
        reasons.append("no lead signals found")

    signals = [rule.code for rule in RULES if rule.code in hits]
    if negations and "negated" not in signals:
        signals.append("negated")
    return _squash(raw), reasons, signals


def _read_classifier(result: object) -> tuple[int, list[str]] | None:
    """Validate a classifier answer; raises ValueError when it is not (int 0-100, reasons)."""
    if result is None:
        return None
    if not isinstance(result, tuple) or len(result) != 2:
        raise ValueError("expected a (score, reasons) pair")
    score, reasons = result
    if isinstance(score, bool) or not isinstance(score, int | float) or math.isnan(score):
        raise ValueError("score is not a number")
    if isinstance(reasons, str) or not isinstance(reasons, Sequence):
        raise ValueError("reasons is not a list")
    clean = [" ".join(str(r).split()) for r in reasons if str(r).strip()]
    return max(0, min(100, round(score))), clean


def score_lead(
    text: str | None,
    author_name: str | None = None,
    author_bio: str | None = None,
    *,
    llm: LeadClassifier | None = None,
) -> LeadScore:
    """Score one interaction as a sales lead (0-100) with the reasons behind the score."""
    if text is None or not text.strip():
        return LeadScore(0, False, ["empty interaction text: nothing to score"], ["empty"])

    score, reasons, signals = _rules_score(text, author_name, author_bio)
    if llm is not None:
        try:
            opinion = _read_classifier(llm.classify_lead(text))
        except Exception as exc:  # any classifier failure must leave the rules' verdict standing
            reasons.append(f"AI classifier unavailable ({type(exc).__name__}); rules-only score")
            signals.append("llm_unavailable")
        else:
            if opinion is None:
                signals.append("llm_abstained")
            else:
                ai_score, ai_reasons = opinion
                score = round((score + ai_score) / 2)
                reasons.append(f"AI: classifier score {ai_score}")
                reasons.extend(f"AI: {reason}" for reason in ai_reasons)
                signals.append("llm")
    # A classifier may repeat itself; each reason is shown once.
    return LeadScore(score, score >= LEAD_THRESHOLD, list(dict.fromkeys(reasons)), signals)
