"""The fast paths of lead scoring give exactly what the plain ones give, on the whole corpus.

* The rules' literal prefilter (``lead_prefilter``) only skips patterns that cannot match: the
  hits, quotes, repeat counts and negations are those of running every pattern.
* The model's kind index (one matrix lookup per feature) picks the same nearest kind as summing
  each kind's weights one by one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from digipersona.interactions import leads
from digipersona.interactions.lead_model import features, shipped_model
from digipersona.interactions.lead_prefilter import required_literals

ROOT = Path(__file__).resolve().parents[2]


def _texts() -> list[str]:
    texts: list[str] = []
    for path in (
        ROOT / "data" / "leads" / "train.jsonl",
        Path(__file__).with_name("lead_corpus.jsonl"),
    ):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    item = json.loads(line)
                    texts += [
                        item["text"],
                        item.get("author_bio") or "",
                        item.get("author_name") or "",
                    ]
    return [t for t in texts if t.strip()]


def _collected(text: str, source: leads.Source, prefilter: bool) -> object:
    hits: dict[str, leads._Hit] = {}
    negations: dict[str, str] = {}
    leads._collect(leads._normalise_mapped(text), source, hits, negations, prefilter=prefilter)
    return {code: (hit.quote, hit.count) for code, hit in hits.items()}, negations


def test_prefilter_gives_the_same_hits_and_reasons_on_the_whole_corpus() -> None:
    texts = _texts()
    assert len(texts) > 1300
    differing = [
        (source, text)
        for text in texts
        for source in ("text", "bio", "name")
        if _collected(text, source, True) != _collected(text, source, False)
    ]
    assert differing == []


def test_prefilter_actually_skips_patterns() -> None:
    table = leads._prefiltered()
    with_literals = [lits for _, _, lits in table.entries if lits is not None]
    assert len(with_literals) > 0.9 * len(table.entries)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\bget in touch\b", {"get in touch"}),
        (r"\b(?:book|schedule) a call\b", {" a call"}),
        (r"\b(?:can|could) (?:we|i) talk\b", {" talk"}),
        (r"\b(?:proposal|quote)s?\b", {"proposal", "quote"}),
        (r"\b(?:dm|pm) me\b", {" me"}),
        (r"\b(?:dm|pm)\b", None),  # every required literal shorter than three characters
        (r"(?i)get in touch", None),
        (r"\b(?:offer|) help\b", {" help"}),
    ],
)
def test_required_literals(pattern: str, expected: set[str] | None) -> None:
    found = required_literals(pattern)
    assert (None if found is None else set(found)) == expected
    if found is not None:  # every match of the pattern contains one of them
        for sample in ("get in touch soon", "book a call", "could we talk", "quotes", "no help"):
            for match in re.finditer(pattern, sample):
                assert any(lit in match.group(0) for lit in found)


def test_kind_index_picks_the_same_kind_as_the_plain_sum() -> None:
    model = shipped_model()
    for text in _texts():
        vector = features(text)
        for lead in (True, False):
            centroids = model.lead_kinds if lead else model.other_kinds
            best, best_sim = None, 0.0
            for kind, centroid in centroids.items():
                sim = sum(centroid.get(k, 0.0) * v for k, v in vector.items())
                if sim > best_sim:
                    best, best_sim = kind, sim
            assert model.nearest_kind(vector, lead) == best, text
