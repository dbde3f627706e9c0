"""Engagement prediction: a categorical naive Bayes trained on the workspace's own history.

Why this model: histories are small (tens to hundreds of posts) and the features are
categorical, where naive Bayes with Laplace smoothing is robust, needs no tuning, trains in
microseconds in plain Python (no numpy/scikit-learn dependency) and explains itself (each
feature's likelihood ratio is the reason shown).

Target: an engagement **band** relative to the persona's own history on that platform: ``low``
(bottom third), ``medium``, ``high`` (top third), cut at the terciles of the training
engagements (per persona and platform when it has enough posts, else per persona, else the
workspace). Engagement = likes + reposts + replies + quotes of the latest reading.

Features (local time of the persona): weekday, part of day, length, hashtags, media, question,
link, format (single post or thread), platform.

With fewer than ``MIN_TRAINING`` measured posts in the workspace, or fewer than
``MIN_PERSONA`` for the persona, it says so instead of guessing.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

BANDS = ("low", "medium", "high")
MIN_TRAINING = 20
MIN_PERSONA = 6
MIN_GROUP = 9
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_HASHTAG = re.compile(r"(?<!\w)#\w+")
_URL = re.compile(
    r"https?://\S+|(?<![\w@])(?:[a-z0-9-]+\.)+(?:com|org|net|io|dev|ai|co|de|eu)\b", re.I
)

FEATURE_LABELS = {
    "weekday": "weekday",
    "daypart": "time of day",
    "length": "length",
    "hashtags": "hashtags",
    "media": "image",
    "question": "question",
    "link": "link",
    "format": "format",
    "platform": "platform",
}


def daypart(hour: int) -> str:
    if hour < 6:
        return "night"
    if hour < 10:
        return "morning"
    if hour < 14:
        return "midday"
    if hour < 18:
        return "afternoon"
    return "evening"


def features(
    text: str,
    local_time: datetime,
    *,
    platform: str,
    has_media: bool,
    parts: int = 1,
) -> dict[str, str]:
    """The categorical features of a post published at ``local_time`` (persona's zone)."""
    length = len(text)
    tags = len(_HASHTAG.findall(text))
    return {
        "weekday": WEEKDAYS[local_time.weekday()],
        "daypart": daypart(local_time.hour),
        "length": "short" if length <= 100 else "medium" if length <= 220 else "long",
        "hashtags": "none" if tags == 0 else "1-2" if tags <= 2 else "3+",
        "media": "yes" if has_media else "no",
        "question": "yes" if "?" in text else "no",
        "link": "yes" if _URL.search(text) else "no",
        "format": "thread" if parts > 1 else "single",
        "platform": platform,
    }


@dataclass(frozen=True)
class Example:
    """One measured post of the history."""

    at: datetime
    persona: str
    platform: str
    features: Mapping[str, str]
    engagement: float


@dataclass
class Thresholds:
    """Tercile cuts of engagement per (persona, platform), persona, and workspace."""

    groups: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    personas: dict[str, tuple[float, float]] = field(default_factory=dict)
    overall: tuple[float, float] = (0.0, 0.0)

    def cuts(self, persona: str, platform: str) -> tuple[float, float]:
        return self.groups.get((persona, platform)) or self.personas.get(persona) or self.overall

    def band(self, persona: str, platform: str, engagement: float) -> str:
        low, high = self.cuts(persona, platform)
        if engagement <= low:
            return "low"
        if engagement > high:
            return "high"
        return "medium"


def _terciles(values: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(values)
    n = len(ordered)
    return ordered[max(0, math.ceil(n / 3) - 1)], ordered[max(0, math.ceil(2 * n / 3) - 1)]


def fit_thresholds(examples: Sequence[Example]) -> Thresholds:
    by_group: dict[tuple[str, str], list[float]] = defaultdict(list)
    by_persona: dict[str, list[float]] = defaultdict(list)
    for e in examples:
        by_group[(e.persona, e.platform)].append(e.engagement)
        by_persona[e.persona].append(e.engagement)
    return Thresholds(
        groups={k: _terciles(v) for k, v in by_group.items() if len(v) >= MIN_GROUP},
        personas={k: _terciles(v) for k, v in by_persona.items() if len(v) >= MIN_PERSONA},
        overall=_terciles([e.engagement for e in examples]) if examples else (0.0, 0.0),
    )


@dataclass
class NaiveBayes:
    """Categorical naive Bayes with Laplace smoothing (``alpha``)."""

    alpha: float = 1.0
    priors: dict[str, float] = field(default_factory=dict)
    counts: dict[str, dict[str, Counter[str]]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    values: dict[str, set[str]] = field(default_factory=dict)

    def fit(self, rows: Sequence[Mapping[str, str]], labels: Sequence[str]) -> NaiveBayes:
        n = len(labels)
        label_counts = Counter(labels)
        self.priors = {
            b: (label_counts[b] + self.alpha) / (n + self.alpha * len(BANDS)) for b in BANDS
        }
        self.counts = {b: defaultdict(Counter) for b in BANDS}
        self.totals = dict(label_counts)
        self.values = defaultdict(set)
        for row, label in zip(rows, labels, strict=True):
            for name, value in row.items():
                self.counts[label][name][value] += 1
                self.values[name].add(value)
        return self

    def _likelihood(self, band: str, name: str, value: str) -> float:
        seen = self.counts[band][name][value]
        k = len(self.values.get(name, ())) + 1  # +1: room for a value never seen
        return (seen + self.alpha) / (self.totals.get(band, 0) + self.alpha * k)

    def proba(self, row: Mapping[str, str]) -> dict[str, float]:
        logs = {}
        for band in BANDS:
            total = math.log(self.priors[band])
            for name, value in row.items():
                total += math.log(self._likelihood(band, name, value))
            logs[band] = total
        top = max(logs.values())
        exp = {b: math.exp(v - top) for b, v in logs.items()}
        norm = sum(exp.values())
        return {b: exp[b] / norm for b in BANDS}

    def predict(self, row: Mapping[str, str]) -> str:
        probs = self.proba(row)
        return max(BANDS, key=lambda b: probs[b])

    def reasons(self, row: Mapping[str, str], band: str, limit: int = 3) -> list[str]:
        """The features that pushed most toward ``band`` (likelihood ratio vs the others)."""
        scored = []
        others = [b for b in BANDS if b != band]
        for name, value in row.items():
            here = self._likelihood(band, name, value)
            there = sum(self._likelihood(b, name, value) for b in others) / len(others)
            scored.append((math.log(here / there), name, value))
        scored.sort(reverse=True)
        return [
            f"{FEATURE_LABELS.get(name, name)}: {value}"
            for ratio, name, value in scored[:limit]
            if ratio > 0.05
        ]


@dataclass
class Model:
    """A trained model: the bands' thresholds and the classifier."""

    thresholds: Thresholds
    classifier: NaiveBayes
    trained_on: int
    label_counts: dict[str, int]


def train(examples: Sequence[Example]) -> Model:
    thresholds = fit_thresholds(examples)
    labels = [thresholds.band(e.persona, e.platform, e.engagement) for e in examples]
    classifier = NaiveBayes().fit([e.features for e in examples], labels)
    return Model(thresholds, classifier, len(examples), dict(Counter(labels)))


@dataclass(frozen=True)
class Evaluation:
    train_size: int
    test_size: int
    accuracy: float
    baseline_accuracy: float
    baseline_band: str
    confusion: dict[str, dict[str, int]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "train_size": self.train_size,
            "test_size": self.test_size,
            "accuracy": round(self.accuracy, 4),
            "baseline_accuracy": round(self.baseline_accuracy, 4),
            "baseline_band": self.baseline_band,
            "confusion": self.confusion,
        }


def evaluate(examples: Sequence[Example], *, test_share: float = 0.3) -> Evaluation | None:
    """Chronological split: train on the oldest posts, test on the newest; compare with the
    majority band of the training set. Bands of the test posts use the training thresholds
    (nothing from the future leaks into training). ``None`` when the history is too small."""
    ordered = sorted(examples, key=lambda e: e.at)
    if len(ordered) < MIN_TRAINING:
        return None
    cut = max(MIN_TRAINING * 7 // 10, int(len(ordered) * (1 - test_share)))
    cut = min(cut, len(ordered) - 1)
    train_set, test_set = ordered[:cut], ordered[cut:]
    model = train(train_set)
    majority = max(BANDS, key=lambda b: model.label_counts.get(b, 0))
    truth = [model.thresholds.band(e.persona, e.platform, e.engagement) for e in test_set]
    guesses = [model.classifier.predict(e.features) for e in test_set]
    confusion = {b: dict.fromkeys(BANDS, 0) for b in BANDS}
    for t, g in zip(truth, guesses, strict=True):
        confusion[t][g] += 1
    hits = sum(t == g for t, g in zip(truth, guesses, strict=True))
    base = sum(t == majority for t in truth)
    return Evaluation(
        train_size=len(train_set),
        test_size=len(test_set),
        accuracy=hits / len(test_set),
        baseline_accuracy=base / len(test_set),
        baseline_band=majority,
        confusion=confusion,
    )
