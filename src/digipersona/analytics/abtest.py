"""A/B comparison of two variants with its uncertainty (Bayesian, plain Python).

- Both variants have impressions: engagement per impression, each a Beta(1 + engagements,
  1 + impressions - engagements) posterior (uniform prior; beta-binomial).
- Otherwise (the platform gives no impressions, e.g. Bluesky): engagements per post, each a
  Gamma(1 + engagements, 1) posterior (Poisson counts); this ignores reach, and says so.

``P(B > A)``, 95 % credible intervals and the relative lift come from Monte Carlo draws of the
two posteriors (seeded: the same figures always give the same answer). A winner is named only
when ``P(B > A)`` is at least 0.95 or at most 0.05.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

DRAWS = 20_000
DECISIVE = 0.95


@dataclass(frozen=True)
class Figures:
    """A variant's summed latest figures over its publications."""

    engagements: int | None
    impressions: int | None
    publications: int
    measured: int


def _quantile(ordered: list[float], q: float) -> float:
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def compare(a: Figures, b: Figures, *, draws: int = DRAWS, seed: int = 0) -> dict[str, Any]:
    """The comparison of B against A (see the module docstring)."""
    if a.engagements is None or b.engagements is None:
        return {
            "method": None,
            "verdict": "waiting",
            "message": "Waiting for figures of both variants (read 1 h to 7 days after "
            "publication).",
        }
    rng = random.Random(seed)
    per_impression = bool(a.impressions) and bool(b.impressions)
    if per_impression:
        assert a.impressions is not None and b.impressions is not None

        def sample(f: Figures) -> float:
            assert f.impressions is not None and f.engagements is not None
            successes = min(f.engagements, f.impressions)
            return rng.betavariate(1 + successes, 1 + f.impressions - successes)

        method = "beta-binomial: engagements per impression"
    else:

        def sample(f: Figures) -> float:
            assert f.engagements is not None
            return rng.gammavariate(1 + f.engagements, 1.0) / max(1, f.measured)

        method = "gamma-poisson: engagements per post (no impressions, so reach is ignored)"
    sa = [sample(a) for _ in range(draws)]
    sb = [sample(b) for _ in range(draws)]
    p_b_better = sum(y > x for x, y in zip(sa, sb, strict=True)) / draws
    lifts = sorted((y - x) / x for x, y in zip(sa, sb, strict=True) if x > 0)
    sa.sort()
    sb.sort()
    if p_b_better >= DECISIVE:
        verdict = "B"
    elif p_b_better <= 1 - DECISIVE:
        verdict = "A"
    else:
        verdict = "inconclusive"
    return {
        "method": method,
        "verdict": verdict,
        "p_b_better": round(p_b_better, 4),
        "a": {"mean": _mean(sa), "ci95": [_quantile(sa, 0.025), _quantile(sa, 0.975)]},
        "b": {"mean": _mean(sb), "ci95": [_quantile(sb, 0.025), _quantile(sb, 0.975)]},
        "lift": {
            "median": _quantile(lifts, 0.5) if lifts else None,
            "ci95": [_quantile(lifts, 0.025), _quantile(lifts, 0.975)] if lifts else None,
        },
        "message": _message(verdict, p_b_better),
    }


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _message(verdict: str, p: float) -> str:
    if verdict == "B":
        return f"B is better with probability {p:.0%}."
    if verdict == "A":
        return f"A is better with probability {1 - p:.0%}."
    return (
        f"No clear winner yet: B is better with probability {p:.0%}; a winner needs at least "
        f"{DECISIVE:.0%} either way."
    )
