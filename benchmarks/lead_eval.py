"""Evaluate lead detection on the labelled corpus: precision, recall, F1 and a confusion matrix.

Run from the repository root: ``.venv/bin/python benchmarks/lead_eval.py``. The corpus is split
deterministically: every 4th item (index 3, 7, 11, ...) is held out and was never inspected while
the rules were tuned; the rest is the tuning split. ``--errors tuning`` lists the misclassified
tuning items (the only split that should be looked at while changing rules).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from digipersona.interactions.leads import score_lead  # noqa: E402

CORPUS = ROOT / "tests" / "interactions" / "lead_corpus.jsonl"
HOLDOUT_EVERY = 4


@dataclass
class Confusion:
    """Counts of a binary classification against labels."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, predicted: bool, actual: bool) -> None:
        """Count one prediction."""
        if predicted and actual:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif actual:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float:
        """Share of predicted leads that are leads."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """Share of leads that were predicted."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def load_corpus(path: Path = CORPUS) -> list[dict[str, object]]:
    """Read the JSONL corpus, one labelled interaction per line."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def split(items: list[dict[str, object]], name: str) -> list[tuple[int, dict[str, object]]]:
    """The (index, item) pairs of one split: "all", "tuning" or "heldout"."""
    indexed = list(enumerate(items))
    if name == "heldout":
        return [(i, it) for i, it in indexed if i % HOLDOUT_EVERY == HOLDOUT_EVERY - 1]
    if name == "tuning":
        return [(i, it) for i, it in indexed if i % HOLDOUT_EVERY != HOLDOUT_EVERY - 1]
    return indexed


def evaluate(pairs: Iterable[tuple[int, dict[str, object]]]) -> tuple[Confusion, list[str]]:
    """Score every item; return the confusion matrix and a line per misclassified item."""
    matrix = Confusion()
    errors: list[str] = []
    for index, item in pairs:
        result = score_lead(
            str(item["text"]),
            author_name=item.get("author_name"),  # type: ignore[arg-type]
            author_bio=item.get("author_bio"),  # type: ignore[arg-type]
        )
        actual = bool(item["label"])
        matrix.add(result.is_lead, actual)
        if result.is_lead != actual:
            kind = "FN" if actual else "FP"
            errors.append(
                f"  {kind} #{index} [{item['lang']}] score={result.score} "
                f"{result.signals} :: {item['text']}"
            )
    return matrix, errors


def report(name: str, matrix: Confusion) -> None:
    """Print the figures and confusion matrix of one split."""
    n = matrix.tp + matrix.fp + matrix.fn + matrix.tn
    print(
        f"{name:<8} n={n:<4} precision={matrix.precision:.3f} recall={matrix.recall:.3f} "
        f"F1={matrix.f1:.3f}"
    )
    print("             predicted lead  predicted not")
    print(f"  lead       {matrix.tp:>14}  {matrix.fn:>13}")
    print(f"  not lead   {matrix.fp:>14}  {matrix.tn:>13}")


def main(argv: list[str] | None = None) -> int:
    """Print figures for every split (and per language on the whole corpus)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", choices=["tuning", "heldout", "all"], default=None)
    args = parser.parse_args(argv)
    items = load_corpus()
    print(
        f"corpus: {CORPUS.relative_to(ROOT)} ({len(items)} items, "
        f"{sum(bool(i['label']) for i in items)} leads)\n"
    )
    for name in ("all", "tuning", "heldout"):
        matrix, _ = evaluate(split(items, name))
        report(name, matrix)
        print()
    print("per language (whole corpus):")
    for lang in sorted({str(i["lang"]) for i in items}):
        matrix, _ = evaluate((i, it) for i, it in enumerate(items) if it["lang"] == lang)
        print(
            f"  {lang}: precision={matrix.precision:.3f} recall={matrix.recall:.3f} "
            f"F1={matrix.f1:.3f} (tp={matrix.tp} fp={matrix.fp} fn={matrix.fn} tn={matrix.tn})"
        )
    if args.errors:
        _, errors = evaluate(split(items, args.errors))
        print(f"\nmisclassified ({args.errors}):")
        print("\n".join(errors) or "  none")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
