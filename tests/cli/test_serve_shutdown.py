"""`digipersona serve` stops on SIGTERM within its grace period, even with a stuck request."""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(check: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return bool(check())


def _up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def start_serve(tmp_path: Path, **settings: str) -> tuple[subprocess.Popen[bytes], str]:
    """``digipersona serve`` on SQLite in ``tmp_path``, a 1 s grace period, a free port."""
    port = _free_port()
    env = {
        **os.environ,
        "DIGIPERSONA_DATA_DIR": str(tmp_path),
        "DIGIPERSONA_PORT": str(port),
        "DIGIPERSONA_SHUTDOWN_GRACE_SECONDS": "1",
        **settings,
    }
    env.pop("DIGIPERSONA_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "digipersona", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    return server, f"http://127.0.0.1:{port}"


def _waiting_on_flock(pid: int) -> bool:
    """True when a thread of ``pid`` is blocked waiting for a flock (``/proc/locks`` '->')."""
    lines = Path("/proc/locks").read_text().splitlines()
    return any("->" in line and " FLOCK " in line and f" {pid} " in line for line in lines)


@pytest.mark.parametrize("embedded_worker", ["false", "true"])
def test_sigterm_ends_serve_within_the_grace_period_with_a_stuck_request(
    tmp_path: Path, embedded_worker: str
) -> None:
    """A write waits forever on the writers' lock another process holds (with the embedded
    dispatcher on, its ticks wait there too, and so does its stop during the app's shutdown)."""
    server, url = start_serve(tmp_path, DIGIPERSONA_EMBEDDED_WORKER=embedded_worker)
    lock = None
    try:
        assert wait_for(lambda: _up(url) or server.poll() is not None, 60), "serve never started"
        assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
        # Another process holds the writers' lock: the next write request waits for it forever.
        lock = open(tmp_path / "digipersona.db-writers.lock", "ab")  # noqa: SIM115
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        answers: list[object] = []

        def login() -> None:
            try:
                answers.append(
                    httpx.post(
                        f"{url}/api/v1/auth/login",
                        json={"email": "a@example.com", "password": "not the password"},
                        timeout=120,
                    )
                )
            except httpx.HTTPError as exc:  # the server went away: what this test wants
                answers.append(exc)

        stuck = threading.Thread(target=login, daemon=True)
        stuck.start()
        assert wait_for(lambda: _waiting_on_flock(server.pid), 30), "the request never got stuck"

        signalled = time.monotonic()
        server.send_signal(signal.SIGTERM)
        # Grace 1 s, then uvicorn cancels, then the watchdog ends the process: a few seconds.
        # (Without the watchdog the process waits for the stuck thread forever.)
        assert wait_for(lambda: server.poll() is not None, 60), "serve ignored SIGTERM"
        stopped_after = time.monotonic() - signalled
        # -SIGTERM: uvicorn cancelled the request and re-raised the signal; 1: the watchdog
        # ended a process whose shutdown was itself stuck.
        assert server.returncode in (1, -signal.SIGTERM), server.returncode
        print(f"serve stopped {stopped_after:.1f} s after SIGTERM")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
        if lock is not None:
            lock.close()


def test_sigterm_ends_an_idle_serve_cleanly(tmp_path: Path) -> None:
    server, url = start_serve(tmp_path)
    try:
        assert wait_for(lambda: _up(url), 60), "serve never started"
        server.send_signal(signal.SIGTERM)
        assert wait_for(lambda: server.poll() is not None, 60), "serve ignored SIGTERM"
        # uvicorn re-raises the signal after a clean shutdown, the conventional exit status.
        assert server.returncode in (0, -signal.SIGTERM)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
