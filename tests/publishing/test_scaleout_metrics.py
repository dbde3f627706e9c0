"""One scrape of the web process shows the publishing counters of every Celery worker: web, a
scheduler and two workers (real processes, real Redis and PostgreSQL) share one metrics
directory, prometheus-client's multiprocess mode."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import _truncate_pg
from tests.fakes import counting_platform
from tests.publishing.test_scaleout import (
    broker,
    env_for,
    kill,
    platform,
    seed,
    spawn,
    wait_states,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]
__all__ = ["broker", "platform"]  # fixtures this module uses
COUNT = 40


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def published_on_scrape(url: str) -> float:
    try:
        text = httpx.get(f"{url}/metrics", timeout=5).text
    except httpx.HTTPError:
        return -1
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "digipersona_publications_total" and s.labels["outcome"] == "published"
    )


def published_by_process(metrics_dir: Path) -> dict[int, float]:
    """What each process's own counter file holds (the file name carries its pid)."""
    counts: dict[int, float] = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = int(path.stem.split("_")[1])
        for key, value, *_ in MmapedDict.read_all_values_from_file(str(path)):
            _family, sample, labels, *_ = json.loads(key)
            if sample == "digipersona_publications_total" and labels["outcome"] == "published":
                counts[pid] = counts.get(pid, 0) + value
    return counts


def test_one_scrape_of_web_shows_the_counters_of_both_workers(
    pg_database: str, broker: str, platform: str, tmp_path: Path
) -> None:
    key = Fernet.generate_key().decode()
    ids = seed(pg_database, key, COUNT)
    metrics_dir = tmp_path / "metrics"
    port, exporter = _free_port(), _free_port()
    env = env_for(
        pg_database,
        broker,
        platform,
        tmp_path,
        key,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        DIGIPERSONA_EMBEDDED_WORKER="false",
        DIGIPERSONA_PORT=str(port),
        # Small batches, each a while on the wire: both workers get some.
        DIGIPERSONA_DISPATCH_BATCH="2",
    )
    httpx.post(f"{platform}/control", json={"latency": 0.1})
    procs = [
        spawn(["serve"], env, tmp_path / "web.log"),
        spawn(["worker", "--concurrency", "1", "--loglevel", "WARNING"], env, tmp_path / "w1.log"),
        spawn(
            ["worker", "--concurrency", "1", "--metrics-port", str(exporter)],
            env,
            tmp_path / "w2.log",
        ),
        spawn(["scheduler"], env, tmp_path / "scheduler.log"),
    ]
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_states(pg_database, ids, 90, {"published"}) == {"published": COUNT}
        assert counting_platform.stats(platform)["posts"] == COUNT
        # A worker counts right after its commit: the last ones may land a moment later.
        deadline = time.monotonic() + 30
        while published_on_scrape(url) != COUNT and time.monotonic() < deadline:
            time.sleep(0.1)
        assert published_on_scrape(url) == COUNT, (tmp_path / "web.log").read_text()[-2000:]
        by_process = published_by_process(metrics_dir)
        assert sum(by_process.values()) == COUNT
        # Two worker pool processes published, neither of them the web process.
        assert len([pid for pid, n in by_process.items() if n > 0]) >= 2, by_process
        assert procs[0].pid not in by_process
        # A worker's own exporter (for a host without the web process) serves the same sums.
        assert published_on_scrape(f"http://127.0.0.1:{exporter}") == COUNT
    finally:
        for proc in procs:
            kill(proc)
        _truncate_pg(pg_database)
