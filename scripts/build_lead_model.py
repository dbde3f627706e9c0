"""Fit the shipped lead model on ``data/leads/train.jsonl`` and write it into the package.

Run from the repository root after changing the corpus: ``.venv/bin/python
scripts/build_lead_model.py``. It prints the cross-validated figures it stores in the model.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from digipersona.interactions.lead_model import SHIPPED_FILE  # noqa: E402
from digipersona.interactions.lead_training import load_corpus, train  # noqa: E402

TARGET = ROOT / "src" / "digipersona" / "interactions" / SHIPPED_FILE


def main() -> int:
    """Train on the whole corpus and write the model file."""
    examples = load_corpus(ROOT / "data" / "leads" / "train.jsonl")
    model = train(examples, source="shipped corpus")
    TARGET.write_bytes(model.to_bytes())
    print(f"wrote {TARGET.relative_to(ROOT)} ({TARGET.stat().st_size} bytes)")  # noqa: T201
    print(json.dumps(dict(model.meta), indent=2))  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
