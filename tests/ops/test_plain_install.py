"""A plain install (``pip install .``, no dev extras) has what scale-out needs: a Celery worker
on the real Redis starts and reports ready. Dev extras once hid a missing ``packaging`` (kombu's
Redis transport imports it): every test passed while ``digipersona worker`` crashed."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
import redis
from cryptography.fernet import Fernet

from tests.conftest import REDIS_URL
from tests.ops.plain_venv import ROOT, plain_venv

pytestmark = [pytest.mark.redis, pytest.mark.slow]
BROKER = REDIS_URL.rsplit("/", 1)[0] + "/13"


def test_worker_from_a_plain_install_reports_ready(tmp_path: Path) -> None:
    try:
        redis.Redis.from_url(BROKER, socket_timeout=1).flushdb()
    except Exception as exc:
        pytest.skip(f"Redis not reachable at {BROKER}: {type(exc).__name__}")
    venv = plain_venv()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGIPERSONA_", "VIRTUAL"))}
    env.update(
        {
            # The checkout's code over the cached venv's copy; its dependencies only from there.
            "PYTHONPATH": str(ROOT / "src"),
            "DIGIPERSONA_BROKER_URL": BROKER,
            "DIGIPERSONA_DATA_DIR": str(tmp_path),
            "DIGIPERSONA_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "DIGIPERSONA_SECRET_KEY": "s" * 48,
            "DIGIPERSONA_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        }
    )
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen(
            [str(venv / "bin" / "digipersona"), "worker", "--concurrency", "1"],
            env=env,
            cwd=tmp_path,  # not the checkout: nothing of it but src/ is importable
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and worker.poll() is None:
            if b" ready." in log.read_bytes():
                break
            time.sleep(0.1)
        text = log.read_text(errors="replace")
        assert worker.poll() is None and " ready." in text, text[-3000:]
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, 15)
            worker.wait(20)
