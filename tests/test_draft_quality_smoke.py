"""The draft-quality benchmark runs and measures (offline writer, one brief per language)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from digipersona.generation import LLMConfig, get_provider


def _bench() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "draft_quality.py"
    spec = importlib.util.spec_from_file_location("draft_quality", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["draft_quality"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_benchmark_measures_each_language() -> None:
    bench = _bench()
    assert sum(len(b) for b in bench.BRIEFS.values()) >= 30 and len(bench.BRIEFS) == 3
    provider = get_provider(LLMConfig())
    for lang in ("en", "de", "fr"):
        tally = bench.run_language(provider, lang, limit=1, count=1)
        assert tally.drafts == 2 and tally.failures == 0
        assert tally.language == 2  # the offline writer keeps the persona's language
        assert tally.banned == 0
    assert bench.detect_language("Wir haben die Hälfte abgeschaltet und es ist gut") == "de"
    assert bench.detect_language("Nous avons arrêté de promettre des dates") == "fr"
