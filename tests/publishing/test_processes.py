"""Embedded mode with publishing helper processes (DIGIPERSONA_DISPATCH_PROCESSES > 1): real
processes on SQLite and PostgreSQL against the loopback counting platform, killed with SIGKILL,
stopped with SIGTERM, and orphaned."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import select

from digipersona import db
from digipersona.config import Settings
from digipersona.models import Heartbeat
from digipersona.worker.embedded import Dispatcher
from digipersona.worker.processes import HelperProcesses, settings_payload
from digipersona.worker.runtime import build_runtime
from tests.conftest import make_settings
from tests.fakes import counting_platform
from tests.publishing.test_scaleout import seed, wait_states

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server, _state = counting_platform.serve()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    # Helpers inherit serve's environment: the counting plugin reads its URL from it.
    monkeypatch.setenv("DIGIPERSONA_COUNTING_URL", url)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    yield url
    server.shutdown()


def helper_settings(tmp_path: Path, database_url: str, key: str, **overrides: object) -> Settings:
    return make_settings(
        tmp_path,
        database_url,
        encryption_keys=key,
        provider_plugins="tests.fakes.counting_platform:CountingProvider",
        dispatch_poll_seconds=0.05,
        worker_threads=4,
        **overrides,
    )


def helper_owners(database_url: str) -> set[str]:
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as conn:
            names = conn.scalars(select(Heartbeat.name)).all()
    finally:
        engine.dispose()
    return {n for n in names if n.startswith("embedded-helper:")}


def gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie nobody reaped counts as exited)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def wait_for(check: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_helpers_beside_serves_dispatcher_publish_everything_exactly_once(
    backend: str, database_url: str, tmp_path: Path, platform: str
) -> None:
    key = Fernet.generate_key().decode()
    ids = seed(database_url, key, 300)
    settings = helper_settings(tmp_path, database_url, key)
    runtime = build_runtime(settings)
    # Three claimers at once: serve's own dispatcher thread and two helper processes.
    dispatcher = Dispatcher(runtime.engine, threads=4, batch=20, poll_seconds=0.05)
    helpers = HelperProcesses(settings, 2)
    helpers.start()
    dispatcher.start()
    try:
        pids = helpers.pids
        assert len(pids) == 2
        states = wait_states(database_url, ids, 90, {"published"})
        assert states == {"published": 300}, states
        stats = counting_platform.stats(platform)
        assert stats["posts"] == 300
        assert stats["duplicates"] == 0
        # Both helpers ran their dispatcher (each beats under its own pid).
        assert wait_for(lambda: len(helper_owners(database_url)) == 2, 10)
        assert {int(name.split(":")[2]) for name in helper_owners(database_url)} == set(pids)
    finally:
        helpers.stop()
        dispatcher.stop()
        runtime.close()
    assert helpers.pids == []
    assert all(gone(pid) for pid in pids)


def test_sigterm_stops_a_helper_after_it_records_everything_it_sent(
    database_url: str, tmp_path: Path, platform: str
) -> None:
    key = Fernet.generate_key().decode()
    ids = seed(database_url, key, 60)
    httpx.post(f"{platform}/control", json={"latency": 0.3})
    helpers = HelperProcesses(helper_settings(tmp_path, database_url, key), 1)
    helpers.start()
    try:
        assert "sending" in wait_states(database_url, ids, 30, {"sending"})
    finally:
        helpers.stop()  # SIGTERM while sends are in flight
    states = wait_states(database_url, ids, 5, {"published", "scheduled"})
    # What it took was sent and recorded; nothing is left mid-flight for reconciliation.
    assert set(states) <= {"published", "scheduled"}, states
    assert counting_platform.stats(platform)["posts"] == states.get("published", 0) > 0
    assert counting_platform.stats(platform)["duplicates"] == 0


def test_killed_helper_is_restarted_and_its_post_is_not_sent_twice(
    database_url: str, tmp_path: Path, platform: str
) -> None:
    key = Fernet.generate_key().decode()
    ids = seed(database_url, key, 1)
    httpx.post(f"{platform}/control", json={"hold": True})  # accepted, never answered
    settings = helper_settings(tmp_path, database_url, key, publish_lease_seconds=10)
    helpers = HelperProcesses(settings, 1)
    helpers.start()
    try:
        assert wait_states(database_url, ids, 30, {"sending"}) == {"sending": 1}
        assert wait_for(lambda: counting_platform.stats(platform)["posts"] == 1, 20)
        (first,) = helpers.pids
        os.kill(first, signal.SIGKILL)  # the platform has the post; the helper never heard
        httpx.post(f"{platform}/control", json={"hold": False})
        assert wait_for(lambda: helpers.pids and helpers.pids != [first], 20), "not restarted"
        # The lease runs out, the new helper reconciles (finds the post) instead of re-posting.
        states = wait_states(database_url, ids, 60, {"published"})
        assert states == {"published": 1}, states
        stats = counting_platform.stats(platform)
        assert stats["posts"] == 1
        assert stats["duplicates"] == 0
    finally:
        helpers.stop()


PARENT = """
import json, sys, threading
from digipersona.config import Settings
from digipersona.worker.processes import HelperProcesses
settings = Settings(**json.loads(sys.stdin.read())).ensure_secrets()
helpers = HelperProcesses(settings, 1)
helpers.start()
print(json.dumps(helpers.pids), flush=True)
threading.Event().wait()
"""


def test_helper_stops_by_itself_when_serve_is_killed(
    database_url: str, tmp_path: Path, platform: str
) -> None:
    key = Fernet.generate_key().decode()
    settings = helper_settings(tmp_path, database_url, key)
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
        start_new_session=True,
    )
    assert parent.stdin is not None and parent.stdout is not None
    parent.stdin.write(json.dumps(settings_payload(settings), default=str).encode())
    parent.stdin.close()
    (helper,) = json.loads(parent.stdout.readline())
    try:
        assert wait_for(lambda: helper_owners(database_url), 30), "the helper never started"
        # Its settings came on stdin: no secret in its command line or environment.
        secret = settings.secret_key_value()
        for name in ("cmdline", "environ"):
            exposed = Path(f"/proc/{helper}/{name}").read_bytes()
            assert secret.encode() not in exposed
            assert settings.encryption_key_list()[0].encode() not in exposed
        # Ctrl-C in serve's terminal is serve's to handle: the helper ignores SIGINT.
        status = Path(f"/proc/{helper}/status").read_text()
        ignored = int(
            next(x for x in status.splitlines() if x.startswith("SigIgn:")).split()[1], 16
        )
        assert ignored & (1 << (signal.SIGINT - 1))
        parent.kill()  # SIGKILL: serve gets no chance to stop its helpers
        parent.wait(10)
        assert wait_for(lambda: gone(helper), 15), "the orphaned helper kept running"
    finally:
        parent.kill()
        if not gone(helper):
            os.kill(helper, signal.SIGKILL)


def test_serve_starts_and_stops_helpers_with_the_app(tmp_path: Path, platform: str) -> None:
    from digipersona.app import create_app

    url = f"sqlite:///{tmp_path / 'serve.db'}"
    settings = make_settings(
        tmp_path, url, embedded_worker=True, auto_migrate=True, dispatch_processes=3
    )
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        pids = app.state.helpers.pids
        assert len(pids) == 2  # serve's own dispatcher plus two helpers
    assert all(gone(pid) for pid in pids)


def test_one_process_is_the_default_and_zero_is_refused(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).dispatch_processes == 1
    with pytest.raises(ValueError, match="dispatch_processes"):
        Settings(data_dir=tmp_path, dispatch_processes=0)


def test_a_helper_that_cannot_start_is_restarted_with_a_growing_pause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    settings = make_settings(tmp_path, url, provider_plugins="no.such.module:Provider")
    helpers = HelperProcesses(settings, 1)
    spawned: list[float] = []
    spawn = helpers._spawn

    def counting_spawn(slot: object) -> None:
        spawned.append(time.monotonic())
        spawn(slot)  # type: ignore[arg-type]

    monkeypatch.setattr(helpers, "_spawn", counting_spawn)
    helpers.start()
    try:
        assert wait_for(lambda: len(spawned) >= 4, 40)
    finally:
        helpers.stop()
    pauses = [b - a for a, b in itertools.pairwise(spawned)]
    assert pauses[2] > pauses[0] + 1.5, pauses  # 1 s, 2 s, 4 s ... not a tight loop
