"""Evaluate lead detection: cross-validation on the training corpus, the separately written
held-out set, the rules' own test corpus, per language with confusion counts, and the speed.

Run from the repository root: ``.venv/bin/python benchmarks/lead_eval.py``.

* ``data/leads/train.jsonl``: the corpus the shipped model is trained on. Figures come from
  5-fold cross-validation: each fold's model is trained on the other four (with the shipped
  model's regularisation), the combined scorer (model + rules) judges the held fold.
* ``data/leads/heldout.jsonl``: written by a different person who never saw the training items.
  It is scored by the shipped model and only aggregate figures are printed, never its items:
  it must not be used to tune anything.
* ``tests/interactions/lead_corpus.jsonl``: the 200 items the rules were tuned on (so the
  rules' figures there are optimistic).
* Speed: 10,000 comments scored by the rules alone and by rules + model, as a ratio.

``--skip-cv`` leaves out the cross-validation (the slow part: 5 model fits).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from digipersona.interactions.lead_model import LeadModel, shipped_model  # noqa: E402
from digipersona.interactions.lead_training import (  # noqa: E402
    Counts,
    Example,
    load_corpus,
    train,
)
from digipersona.interactions.leads import combined_probability, score_lead  # noqa: E402

TRAIN = ROOT / "data" / "leads" / "train.jsonl"
HELDOUT = ROOT / "data" / "leads" / "heldout.jsonl"
RULES_CORPUS = ROOT / "tests" / "interactions" / "lead_corpus.jsonl"
FOLDS = 5
SPEED_N = 10_000


def table(title: str, rows: Iterable[tuple[str, bool, bool]]) -> Counts:
    """Print per-language precision/recall with confusion counts; return the overall counts."""
    per_lang: dict[str, Counts] = defaultdict(Counts)
    total = Counts()
    for lang, predicted, actual in rows:
        per_lang[lang].add(predicted, actual)
        total.add(predicted, actual)
    print(title)
    print(f"  {'lang':<6}{'n':>5}{'precision':>11}{'recall':>8}{'F1':>7}   tp   fp   fn   tn")
    for lang in [*sorted(per_lang), "all"]:
        c = total if lang == "all" else per_lang[lang]
        print(
            f"  {lang:<6}{c.n:>5}{c.precision:>11.3f}{c.recall:>8.3f}{c.f1:>7.3f}"
            f" {c.tp:>4} {c.fp:>4} {c.fn:>4} {c.tn:>4}"
        )
    print()
    return total


def cross_validate(examples: Sequence[Example], c: float) -> list[tuple[str, bool, bool]]:
    """5-fold cross-validation of the combined scorer on the training corpus."""
    rows: list[tuple[str, bool, bool]] = []
    for fold in range(FOLDS):
        train_part = [ex for i, ex in enumerate(examples) if i % FOLDS != fold]
        test_part = [ex for i, ex in enumerate(examples) if i % FOLDS == fold]
        model = train(train_part, c=c, source=f"fold {fold}", explain=False)
        rows += [
            (ex.lang, combined_probability(model, ex.text) >= 0.5, ex.label) for ex in test_part
        ]
    return rows


def scored(
    model: LeadModel | None, items: Iterable[dict[str, object]]
) -> list[tuple[str, bool, bool]]:
    """(lang, predicted, actual) for every item, scored as the product scores an interaction."""
    return [
        (
            str(item.get("lang", "?")),
            score_lead(
                str(item["text"]),
                author_name=item.get("author_name"),  # type: ignore[arg-type]
                author_bio=item.get("author_bio"),  # type: ignore[arg-type]
                model=model,
            ).is_lead,
            bool(item["label"]),
        )
        for item in items
    ]


def read_jsonl(path: Path) -> list[dict[str, object]]:
    """One JSON object a line."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def speed(texts: Sequence[str]) -> None:
    """Score SPEED_N comments with the rules alone and with the model; print both and the ratio."""
    sample = [texts[i % len(texts)] + f" ({i})" for i in range(SPEED_N)]
    model = shipped_model()
    timings = {}
    for name, chosen in (("rules only", None), ("rules + model", model)):
        start = time.perf_counter()
        for text in sample:
            score_lead(text, model=chosen)
        timings[name] = time.perf_counter() - start
    for name, seconds in timings.items():
        print(
            f"  {name:<14} {SPEED_N} comments in {seconds:.2f} s ({seconds / SPEED_N * 1e6:.0f} us each)"
        )
    print(
        f"  ratio (rules + model) / rules only: {timings['rules + model'] / timings['rules only']:.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    """Print every table and the speed figure."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--skip-cv", action="store_true", help="leave out cross-validation")
    args = parser.parse_args(argv)
    model = shipped_model()
    examples = load_corpus(TRAIN)
    print(f"training corpus: {len(examples)} items, {sum(e.label for e in examples)} leads")
    print(f"shipped model: C={model.meta.get('c')}, blend {model.meta.get('blend')}\n")
    if not args.skip_cv:
        table(
            f"training corpus, {FOLDS}-fold cross-validation (rules + model):",
            cross_validate(examples, float(model.meta.get("c", 30.0))),
        )
    if HELDOUT.exists():
        items = read_jsonl(HELDOUT)
        table(
            f"held-out set, written separately ({len(items)} items), rules only:",
            scored(None, items),
        )
        total = table(
            f"held-out set ({len(items)} items), rules + shipped model:", scored(model, items)
        )
        targets = total.precision >= 0.90 and total.recall >= 0.85
        print(f"  targets (precision >= 0.90, recall >= 0.85): {'met' if targets else 'NOT met'}\n")
    else:
        print(f"held-out set: {HELDOUT.relative_to(ROOT)} is not there; skipped\n")
    rules_items = read_jsonl(RULES_CORPUS)
    table("rules test corpus (the rules were tuned on it), rules only:", scored(None, rules_items))
    table("rules test corpus, rules + shipped model:", scored(model, rules_items))
    print("speed:")
    speed([e.text for e in examples])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
