"""The API benchmark runs end to end (quick mode, SQLite) and prints its table; no timings are
checked (benchmarks/api_bench.py prints figures, it never asserts them)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
ENDPOINTS = [
    "/healthz",
    "GET /api/v1/content (first page)",
    "GET /api/v1/calendar (one month)",
    "GET /api/v1/interactions",
    "/calendar (month page)",
    "/content",
    "/dashboard",
    "/approvals",
    "/interactions",
    "/analytics",
    "POST /api/v1/content (draft)",
]


def test_api_bench_quick_sqlite_prints_a_row_per_endpoint() -> None:
    if shutil.which("wrk") is None:
        message = "wrk is not installed (apt-get install -y wrk; scripts/peers/install-all.sh)"
        if os.environ.get("DIGIPERSONA_REQUIRE_PEERS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGIPERSONA_")}
    out = subprocess.run(
        [sys.executable, "benchmarks/api_bench.py", "--quick", "--db", "sqlite", "--duration", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    rows = [line for line in out.stdout.splitlines() if line.startswith("| ")]
    names = [row.split(" | ")[0].removeprefix("| ") for row in rows[1:]]
    assert names == ENDPOINTS, out.stdout
    for row in rows[1:]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert float(cells[1]) > 0, row  # requests per second: wrk got answers
        assert cells[10].endswith("x"), row  # the p99 ratio to the bare endpoint
    assert "serve start-up to the first /healthz 200" in out.stdout
    assert "calendar month HTML <= 150 KB" in out.stdout
