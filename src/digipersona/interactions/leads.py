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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, Protocol

from digipersona.interactions.lead_model import LeadModel, ModelVerdict, shipped_model
from digipersona.interactions.lead_prefilter import required_literals
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


@dataclass(frozen=True)
class _Prefiltered:
    """The rule table with, for each pattern, the literals one of which any match contains."""

    # (rule, pattern, literals or None when the pattern has no usable literal: always run)
    entries: tuple[tuple[Rule, re.Pattern[str], frozenset[str] | None], ...]
    literals: tuple[str, ...]


@cache
def _prefiltered() -> _Prefiltered:
    """``_compiled`` with each pattern's required literals (``lead_prefilter``): a pattern whose
    literals are all absent from a text cannot match it, so its regex is not run. Most comments
    contain the literals of a few dozen of the ~400 patterns; the matches (and so the scores and
    reasons) are those of running every pattern."""
    entries = tuple(
        (rule, pattern, required_literals(pattern.pattern)) for rule, pattern in _compiled()
    )
    literals = sorted({lit for _, _, lits in entries if lits for lit in lits})
    return _Prefiltered(entries, tuple(literals))


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
    doc: _Normalised,
    source: Source,
    hits: dict[str, _Hit],
    negations: dict[str, str],
    *,
    prefilter: bool = True,
) -> None:
    table = _prefiltered()
    text = doc.text
    present = {lit for lit in table.literals if lit in text} if prefilter else set()
    for rule, pattern, literals in table.entries:
        if rule.source != source:
            continue
        if prefilter and literals is not None and literals.isdisjoint(present):
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
) -> tuple[float, list[str], list[str]]:
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
    return raw, reasons, signals


def rules_signals(text: str) -> tuple[float, list[str]]:
    """The rules' log-odds for ``text`` (``BIAS`` plus the weights that matched) and signals."""
    raw, _, signals = _rules_score(text, None, None)
    return raw, signals


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


@dataclass(frozen=True)
class LeadContext:
    """What the persona sells and what it never counts as a lead (from the persona's settings)."""

    offering: str | None = None
    not_leads: tuple[str, ...] = ()


# The corpus kinds that are an enquiry for each offering (see ``lead_model.KIND_LABELS``).
OFFERING_KINDS: Final[dict[str, frozenset[str]]] = {
    "consulting": frozenset(
        {
            "interim",
            "proposal",
            "exec_call",
            "rfp",
            "new_clients",
            "advisory",
            "direct_ask",
            "pricing",
            "service_question",
            "referral",
        }
    ),
    "workshops": frozenset(
        {"workshop_booking", "proposal", "pricing", "rfp", "service_question", "exec_call"}
    ),
    "saas": frozenset({"demo", "rfp", "pricing", "exec_call", "proposal"}),
    "course": frozenset({"course", "pricing"}),
}
OFFERINGS: Final = tuple(OFFERING_KINDS)
OFFERING_BONUS: Final = 0.7
# Log-odds taken off the fitted blend: the training corpus is balanced, an inbox is not. Chosen
# on the training corpus's cross-validation (precision 0.90, recall 0.81 there) and the 200-item
# test corpus (tests/interactions/lead_corpus.jsonl), never on the held-out set.
PRECISION_MARGIN: Final = 0.5
# The rules alone keep a lead unless the model gives it less than this probability: they were
# precise (0.95) but missed phrasings on text written by others; the model adds recall.
RULES_STAND_FLOOR: Final = 0.2
NOT_LEAD_CAP: Final = -3.0
# Rules that veto a lead: when one matches, the rules' own verdict (all their weights) decides,
# whatever the model says.
VETO_SIGNALS: Final = frozenset({"spam", "job_seeker"})


class _Default:
    """Marks ``score_lead(model=...)`` left out: the shipped model is used."""


SHIPPED: Final = _Default()


def _model_or_none(model: LeadModel | _Default | None) -> tuple[LeadModel | None, str | None]:
    if not isinstance(model, _Default):
        return model, None
    try:
        return shipped_model(), None
    except (OSError, ValueError, ImportError) as exc:  # a broken install still scores by rules
        return None, f"learned model unavailable ({type(exc).__name__}); rules-only score"


def combine(
    blend: Mapping[str, Any], model_logit: float, rules_raw: float, signals: Sequence[str]
) -> float:
    """Model and rules log-odds combined: the blend fitted at training less
    ``PRECISION_MARGIN``; a rules verdict at least as strong stands unless the model gives it
    under ``RULES_STAND_FLOOR``; a rules veto (spam, job seeker) caps it at the rules'."""
    z = (
        float(blend.get("bias", 0.0))
        - PRECISION_MARGIN
        + float(blend.get("model", 1.0)) * model_logit
        + float(blend.get("rules", 0.0)) * rules_raw
    )
    if 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, model_logit)))) >= RULES_STAND_FLOOR:
        z = max(z, rules_raw)
    if _vetoed(signals):
        z = min(z, rules_raw)
    return z


def _combine(model: LeadModel, verdict: ModelVerdict, raw: float, signals: Sequence[str]) -> float:
    return combine(model.meta.get("blend") or {}, verdict.logit, raw, signals)


def combined_probability(model: LeadModel, text: str) -> float:
    """Probability that ``text`` is a lead, model and rules combined (no persona, no LLM)."""
    raw, _, signals = _rules_score(text, None, None)
    z = _combine(model, model.judge(text), raw, signals)
    return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


def _vetoed(signals: Sequence[str]) -> bool:
    return bool(VETO_SIGNALS.intersection(signals))


def _not_lead_match(text: str, phrases: Sequence[str]) -> str | None:
    folded = normalise(text)
    for phrase in phrases:
        needle = normalise(phrase)
        if needle and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", folded):
            return phrase.strip()
    return None


def score_lead(
    text: str | None,
    author_name: str | None = None,
    author_bio: str | None = None,
    *,
    llm: LeadClassifier | None = None,
    model: LeadModel | _Default | None = SHIPPED,
    context: LeadContext | None = None,
) -> LeadScore:
    """Score one interaction as a sales lead (0-100) with the reasons behind the score.

    ``model`` is the learned classifier (the shipped one unless given; ``None`` for rules only),
    ``context`` what the persona offers and never counts as a lead, ``llm`` an optional second
    opinion averaged in last.
    """
    if text is None or not text.strip():
        return LeadScore(0, False, ["empty interaction text: nothing to score"], ["empty"])

    raw, reasons, signals = _rules_score(text, author_name, author_bio)
    chosen, unavailable = _model_or_none(model)
    if unavailable:
        reasons.append(unavailable)
        signals.append("model_unavailable")
    z = raw
    if chosen is not None:
        verdict = chosen.judge(text)
        z = _combine(chosen, verdict, raw, signals)
        percent = round(100 * verdict.probability)
        if verdict.probability >= 0.5:
            note = f"similar to past enquiries about {verdict.kind_label}"
        else:
            note = f"reads like {verdict.kind_label}, not an enquiry"
        reasons.insert(0, f"model {percent}/100: {note}")
        signals.append("model")
        if _vetoed(signals):
            reasons.append("rules veto: an obvious non-lead whatever the model says")
            signals.append("rules_veto")
        offering = context.offering if context else None
        if offering in OFFERING_KINDS and verdict.probability >= 0.5 and verdict.kind:
            if verdict.kind in OFFERING_KINDS[offering]:
                z += OFFERING_BONUS
                reasons.append(f"fits what this persona offers ({offering})")
                signals.append("offering_fit")
            elif any(verdict.kind in kinds for kinds in OFFERING_KINDS.values()):
                z -= OFFERING_BONUS
                reasons.append(
                    f"asks about {verdict.kind_label}, which this persona does not offer"
                    f" ({offering})"
                )
                signals.append("offering_mismatch")
    if context and context.not_leads:
        phrase = _not_lead_match(text, context.not_leads)
        if phrase is not None:
            z = min(z, NOT_LEAD_CAP)
            reasons.append(f"on this persona's not-a-lead list: '{phrase}'")
            signals.append("not_a_lead_list")
    score = _squash(z)
    if llm is not None:
        try:
            opinion = _read_classifier(llm.classify_lead(text))
        except Exception as exc:  # any classifier failure must leave the rules' verdict standing
            reasons.append(f"AI classifier unavailable ({type(exc).__name__}); scored without it")
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
