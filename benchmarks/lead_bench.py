"""Lead scoring speed: comments per second for the rules, the model and the blend, each as a
ratio to a baseline run in the same process on the same comments.

Run from the repository root: ``.venv/bin/python benchmarks/lead_bench.py [--n 10000]``.

The comments are the training corpus's (``data/leads/train.jsonl``), each made distinct with a
counter so no cache can answer for a repeat. The baseline is the cheapest scan that still reads
every comment: ``str.lower`` and an ``in`` test for each of the rule table's literals (what the
rules' prefilter does before any regex runs). Ratios, not seconds, are what to compare across
machines: a busy CI machine slows both sides alike. The issue's target is 10,000 comments in
under 2 s for the blend.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from digipersona.interactions.lead_model import shipped_model  # noqa: E402
from digipersona.interactions.leads import _prefiltered, score_lead  # noqa: E402

TRAIN = ROOT / "data" / "leads" / "train.jsonl"


def timed(run: Callable[[str], object], sample: Sequence[str]) -> float:
    """Seconds to call ``run`` on every comment of ``sample``."""
    start = time.perf_counter()
    for text in sample:
        run(text)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """Print comments/s and the ratio to the baseline for each scorer."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="comments to score (10000)")
    args = parser.parse_args(argv)
    with TRAIN.open(encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh if line.strip()]
    sample = [f"{texts[i % len(texts)]} ({i})" for i in range(args.n)]
    model = shipped_model()
    literals = _prefiltered().literals
    score_lead(sample[0], model=model)  # compile the rules, load the model

    def baseline(text: str) -> object:
        lowered = text.lower()
        return [lit for lit in literals if lit in lowered]

    runs: dict[str, Callable[[str], object]] = {
        "baseline (lower + in)": baseline,
        "rules": lambda text: score_lead(text, model=None),
        "model": model.judge,
        "blend (rules + model)": lambda text: score_lead(text, model=model),
    }
    seconds = {name: timed(run, sample) for name, run in runs.items()}
    base = seconds["baseline (lower + in)"]
    print(f"{args.n} comments; {len(literals)} literals in the baseline scan")
    for name, took in seconds.items():
        print(
            f"  {name:<24}{args.n / took:>10.0f} comments/s  {took:>6.2f} s"
            f"  {took / base:>6.1f}x baseline"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
