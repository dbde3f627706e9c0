"""Fit the lead model (``lead_model``) on the shipped corpus plus a workspace's inbox labels.

scikit-learn does the fitting (a runtime dependency because ``digipersona leads retrain`` and the
periodic retrain job run in the product); what it fits is exported as plain numbers, so scoring
never imports it. Steps:

1. Every text becomes the stateless hashed vector of ``lead_model.features``.
2. The regularisation ``C`` of a class-balanced logistic regression is chosen by stratified 5-fold
   cross-validation (F1) from a small grid.
3. Out-of-fold decision values give the Platt calibration (``a``, ``b``) and the out-of-fold
   precision/recall recorded in the model (the figures the Analytics page shows).
4. The same out-of-fold logits, next to each item's rules log-odds, fit the *blend* that
   ``leads.combine`` uses: ``z = bias + w_model * model_logit + w_rules * rules_raw`` (less a
   precision margin; see there). The recorded "combined" figures are that final decision on
   the out-of-fold logits.
5. A logistic regression per class (one-vs-rest) tells its ``kind``s apart (interim role,
   workshop booking, recruiter...); each kind keeps its strongest weights to explain verdicts.

``retrain_candidate`` adds the held-out comparison: the new model replaces the old one only when
it scores at least as well (F1) on a deterministic held-out split of the workspace's labels plus
a slice of the corpus.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from digipersona.interactions.lead_model import LeadModel, features
from digipersona.interactions.leads import combine, rules_signals

C_GRID: Final = (10.0, 30.0, 100.0)
FOLDS: Final = 5
CENTROID_TOP: Final = 400
HELD_OUT_EVERY: Final = 5
_PACKAGED_CORPUS: Final = ("lead_data", "train.jsonl")


@dataclass(frozen=True)
class Example:
    """One labelled comment."""

    text: str
    label: bool
    lang: str = "?"
    kind: str = ""
    offering: str = ""
    ref: str = ""  # an inbox label's interaction id; empty for corpus items


@dataclass
class Counts:
    """Confusion counts with precision, recall and F1."""

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

    @property
    def n(self) -> int:
        """Items counted."""
        return self.tp + self.fp + self.fn + self.tn


def corpus_path() -> Path:
    """The shipped training corpus: inside the wheel, or ``data/leads`` in a source checkout."""
    here = Path(__file__).resolve().parent
    packaged = here.joinpath(*_PACKAGED_CORPUS)
    if packaged.is_file():
        return packaged
    return here.parents[2] / "data" / "leads" / "train.jsonl"


def load_corpus(path: Path | None = None) -> list[Example]:
    """The labelled corpus, one JSON object a line (text, lang, label, offering, kind)."""
    examples: list[Example] = []
    with (path or corpus_path()).open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            item = json.loads(line)
            examples.append(
                Example(
                    text=str(item["text"]),
                    label=bool(item["label"]),
                    lang=str(item.get("lang", "?")),
                    kind=str(item.get("kind", "")),
                    offering=str(item.get("offering", "")),
                )
            )
    return examples


def _matrix(vectors: Sequence[dict[int, float]]) -> Any:
    from scipy.sparse import csr_matrix

    from digipersona.interactions.lead_model import MASK

    indptr: list[int] = [0]
    indices: list[int] = []
    data: list[float] = []
    for vector in vectors:
        indices.extend(vector.keys())
        data.extend(vector.values())
        indptr.append(len(indices))
    return csr_matrix((data, indices, indptr), shape=(len(vectors), MASK + 1))


def _folds(labels: Sequence[bool], seed: int) -> Any:
    from sklearn.model_selection import StratifiedKFold

    folds = min(FOLDS, sum(labels), len(labels) - sum(labels))
    return StratifiedKFold(n_splits=max(2, folds), shuffle=True, random_state=seed)


def _logistic(c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(
        C=c, class_weight="balanced", max_iter=2000, solver="liblinear", tol=1e-3
    )


def _oof_decisions(x: Any, y: Sequence[bool], c: float, seed: int) -> list[float]:
    from sklearn.model_selection import cross_val_predict

    values = cross_val_predict(
        _logistic(c), x, list(y), cv=_folds(y, seed), method="decision_function"
    )
    return [float(v) for v in values]


def _f1(decisions: Sequence[float], labels: Sequence[bool]) -> float:
    counts = Counts()
    for d, label in zip(decisions, labels, strict=True):
        counts.add(d >= 0, label)
    return counts.f1


def _fit_1d(
    columns: Sequence[Sequence[float]], labels: Sequence[bool]
) -> tuple[list[float], float]:
    """A lightly regularised logistic regression on a few dense columns: (weights, bias)."""
    from sklearn.linear_model import LogisticRegression

    rows = [list(r) for r in zip(*columns, strict=True)]
    fit = LogisticRegression(C=10.0, max_iter=1000).fit(rows, list(labels))
    return [float(w) for w in fit.coef_[0]], float(fit.intercept_[0])


def _kind_weights(x: Any, examples: Sequence[Example], label: bool) -> dict[str, dict[int, float]]:
    """Per kind of one class, the strongest positive weights of a one-vs-rest logistic
    regression telling that class's kinds apart (explains a verdict: "similar to ...")."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    rows = [i for i, ex in enumerate(examples) if ex.label == label]
    kinds = [examples[i].kind or ("inbox" if label else "inbox_not_lead") for i in rows]
    names = sorted(set(kinds))
    if len(names) < 2:
        return {name: {} for name in names}
    fit = OneVsRestClassifier(LogisticRegression(C=10.0, max_iter=1000, solver="liblinear")).fit(
        x[rows], kinds
    )
    coefs = [est.coef_[0] for est in fit.estimators_]
    if len(fit.classes_) == 2:  # one binary estimator: the first class is its negative side
        coefs = [-coefs[0], coefs[0]]
    out: dict[str, dict[int, float]] = {}
    for name, coef in zip(fit.classes_, coefs, strict=True):
        top = coef.argsort()[::-1][:CENTROID_TOP]
        out[str(name)] = {int(k): float(coef[k]) for k in top if coef[k] > 0}
    return out


def train(
    examples: Sequence[Example],
    *,
    seed: int = 0,
    source: str = "corpus",
    c: float | None = None,
    explain: bool = True,
) -> LeadModel:
    """Fit a calibrated model (and its rules blend) on ``examples``; raises ValueError if one
    class has fewer than two items. ``c`` skips the search for the regularisation; without
    ``explain`` no kind weights are fitted (a model only compared, never shown)."""
    labels = [ex.label for ex in examples]
    if sum(labels) < 2 or len(labels) - sum(labels) < 2:
        raise ValueError("training needs at least two leads and two non-leads")
    vectors = [features(ex.text) for ex in examples]
    x = _matrix(vectors)

    best_c, best_f1, best_oof = C_GRID[0], -1.0, [0.0] * len(labels)
    for candidate in (c,) if c is not None else C_GRID:
        oof = _oof_decisions(x, labels, candidate, seed)
        f1 = _f1(oof, labels)
        if f1 > best_f1:
            best_c, best_f1, best_oof = candidate, f1, oof

    (platt_a,), platt_b = _fit_1d([best_oof], labels)
    model_logits = [platt_a * d + platt_b for d in best_oof]
    rules = [rules_signals(ex.text) for ex in examples]
    (w_model, w_rules), blend_bias = _fit_1d([model_logits, [r[0] for r in rules]], labels)
    blend = {"bias": blend_bias, "model": w_model, "rules": w_rules}

    oof_counts = Counts()
    blend_counts = Counts()
    for logit, (raw, signals), label in zip(model_logits, rules, labels, strict=True):
        oof_counts.add(logit >= 0, label)
        blend_counts.add(combine(blend, logit, raw, signals) >= 0, label)

    final = _logistic(best_c).fit(x, labels)
    coef = final.coef_[0]
    nonzero = coef.nonzero()[0]
    weights = {int(i): float(coef[i]) for i in nonzero}
    lead_kinds = _kind_weights(x, examples, True) if explain else {}
    other_kinds = _kind_weights(x, examples, False) if explain else {}
    meta = {
        "source": source,
        "c": best_c,
        "n": len(labels),
        "leads": sum(labels),
        "blend": blend,
        "metrics": {
            "method": f"{_folds(labels, seed).get_n_splits()}-fold cross-validation",
            "n": len(labels),
            "model": _figures(oof_counts),
            "combined": _figures(blend_counts),
        },
    }
    return LeadModel(
        weights=weights,
        intercept=float(final.intercept_[0]),
        platt_a=platt_a,
        platt_b=platt_b,
        lead_kinds=lead_kinds,
        other_kinds=other_kinds,
        meta=meta,
    )


def _figures(counts: Counts) -> dict[str, float | int]:
    return {
        "precision": round(counts.precision, 3),
        "recall": round(counts.recall, 3),
        "f1": round(counts.f1, 3),
        "tp": counts.tp,
        "fp": counts.fp,
        "fn": counts.fn,
        "tn": counts.tn,
    }


# "Worse" means worse beyond the noise of the split: the held-out part is mostly the ~240 corpus
# items, where refitting with a few more labels moves F1 by an item or two either way (0.005 to
# 0.01); without a margin, whether a workspace's labels were taken was a coin flip.
RETRAIN_TOLERANCE: Final = 0.01


def split_held_out(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """Deterministic (train, held-out) split: every ``HELD_OUT_EVERY``-th item is held out."""
    train_part = [ex for i, ex in enumerate(examples) if i % HELD_OUT_EVERY != HELD_OUT_EVERY - 1]
    held = [ex for i, ex in enumerate(examples) if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1]
    return train_part, held


def evaluate(model: LeadModel, examples: Iterable[Example]) -> Counts:
    """Confusion counts of ``model`` (blended with the rules, as scoring does) on ``examples``."""
    from digipersona.interactions.leads import combined_probability

    counts = Counts()
    for ex in examples:
        counts.add(combined_probability(model, ex.text) >= 0.5, ex.label)
    return counts


@dataclass(frozen=True)
class RetrainOutcome:
    """What a retrain decided: the kept model, both held-out F1 figures, and whether it changed."""

    model: LeadModel
    replaced: bool
    new_f1: float
    old_f1: float
    held_out: int


def retrain_candidate(
    corpus: Sequence[Example],
    labels: Sequence[Example],
    current: LeadModel,
    previous_labels: Sequence[Example] = (),
) -> RetrainOutcome:
    """Fit on corpus + labels; keep ``current`` if that recipe scores worse on a held-out split.

    Both recipes (the current model's: corpus + ``previous_labels``; the new one: corpus + all
    ``labels``) are fitted on the same training split and scored on the same held-out split:
    every 5th corpus item plus every 5th label. Only if the new recipe's F1 is at least the old
    one's is the new model refitted on everything and returned; otherwise ``current`` stays.
    """
    corpus_train, corpus_held = split_held_out(corpus)
    label_train, label_held = split_held_out(labels)
    held_refs = {ex.ref for ex in label_held}
    held = label_held + corpus_held
    old_train = [ex for ex in previous_labels if ex.ref not in held_refs]
    c = float(current.meta.get("c", C_GRID[1]))
    new_model = train(corpus_train + label_train, source="workspace", c=c, explain=False)
    old_model = train(corpus_train + old_train, source="workspace", c=c, explain=False)
    new_counts = evaluate(new_model, held)
    old_counts = evaluate(old_model, held)
    if new_counts.f1 < old_counts.f1 - RETRAIN_TOLERANCE:
        return RetrainOutcome(current, False, new_counts.f1, old_counts.f1, len(held))
    final = train(list(corpus) + list(labels), source="workspace", c=c)
    metrics = dict(final.metrics)
    metrics["held_out"] = {"n": len(held), **_figures(new_counts)}
    meta = {**final.meta, "metrics": metrics, "label_refs": [ex.ref for ex in labels]}
    kept = LeadModel(
        weights=final.weights,
        intercept=final.intercept,
        platt_a=final.platt_a,
        platt_b=final.platt_b,
        lead_kinds=final.lead_kinds,
        other_kinds=final.other_kinds,
        meta=meta,
    )
    return RetrainOutcome(kept, True, new_counts.f1, old_counts.f1, len(held))
