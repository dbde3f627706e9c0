"""Evaluate the engagement prediction on synthetic histories: accuracy vs the majority band.

Run from the repository root: ``.venv/bin/python benchmarks/engagement_eval.py``. Each history
is split chronologically (oldest 70 % train, newest 30 % test); bands are terciles of the
training engagement per persona and platform. A history without signal shows what chance
looks like; the real workspace figure comes from ``digipersona analytics evaluate``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from digipersona.analytics.prediction import evaluate  # noqa: E402
from tests.analytics.synthetic import synthetic_history  # noqa: E402


def main() -> None:
    print(f"{'history':<34} {'n':>5} {'test':>5} {'accuracy':>9} {'baseline':>9}")
    rows = [
        ("signal, noise 0.45", {"signal": True, "noise": 0.45}),
        ("signal, noise 0.8", {"signal": True, "noise": 0.8}),
        ("no signal (noise only)", {"signal": False, "noise": 0.45}),
    ]
    for n in (60, 200, 1000):
        for label, kwargs in rows:
            accs, bases, tests = [], [], 0
            for seed in range(5):
                result = evaluate(synthetic_history(n, seed=seed, **kwargs))  # type: ignore[arg-type]
                assert result is not None
                accs.append(result.accuracy)
                bases.append(result.baseline_accuracy)
                tests = result.test_size
            print(
                f"{label:<34} {n:>5} {tests:>5} {sum(accs) / len(accs):>9.3f} "
                f"{sum(bases) / len(bases):>9.3f}"
            )
    print("(means over 5 seeds)")


if __name__ == "__main__":
    main()
