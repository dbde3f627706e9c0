"""Embedded mode with publishing helper processes: what the helpers publish shows on the scrape
of the process that started them (the shared multiprocess directory)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from prometheus_client.parser import text_string_to_metric_families

from digipersona.kit import metrics
from digipersona.worker.processes import HelperProcesses
from tests.fakes import counting_platform
from tests.publishing.test_processes import helper_settings, platform, wait_for
from tests.publishing.test_scaleout import seed, wait_states

pytestmark = pytest.mark.slow
__all__ = ["platform"]  # the fixture this module uses
COUNT = 30


def published(text: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "digipersona_publications_total" and s.labels["outcome"] == "published"
    )


@pytest.mark.parametrize("backend", ["sqlite"])
def test_helpers_counters_show_on_serves_scrape(
    database_url: str, tmp_path: Path, platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    # What serve does before it imports prometheus-client; the helpers inherit it.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    key = Fernet.generate_key().decode()
    ids = seed(database_url, key, COUNT)
    httpx.post(f"{platform}/control", json={"latency": 0.02})
    helpers = HelperProcesses(helper_settings(tmp_path, database_url, key), 2)
    helpers.start()
    try:
        pids = set(helpers.pids)
        assert wait_states(database_url, ids, 60, {"published"}) == {"published": COUNT}
        assert counting_platform.stats(platform)["posts"] == COUNT
        assert wait_for(lambda: published(metrics.exposition().decode()) == COUNT, 20)
    finally:
        helpers.stop()
    files = {int(p.stem.split("_")[1]) for p in metrics_dir.glob("counter_*.db")}
    assert files and files <= pids  # every count came from a helper process
    # Stopped helpers' counts stay in the sum: counters never go backwards.
    assert published(metrics.exposition().decode()) == COUNT
