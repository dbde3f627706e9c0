"""Embedded mode on more than one core: publishing helper processes beside serve's dispatcher.

One Python process publishes on one core at a time (its GIL). With
``DIGIPERSONA_DISPATCH_PROCESSES=N`` (N > 1), ``serve`` keeps its own dispatcher thread (which
alone runs the periodic jobs and slow housekeeping) and starts N - 1 helper processes that only
claim, send and record publications. They share the database and nothing else: the claim is
safe for concurrent claimers (SQLite's write lock, PostgreSQL's ``SKIP LOCKED``), and a helper
that dies leaves leases that expire into reconciliation, exactly like a killed Celery worker.

A helper receives serve's settings on its standard input (never in its arguments or
environment, where secrets would show), stops on SIGTERM after recording what it has sent
(serve sends it when it stops; SIGINT from the terminal is left to serve), and stops by itself
when serve is gone. Serve restarts a helper that exits.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from pydantic import SecretStr

from digipersona.config import Settings
from digipersona.kit import metrics

logger = logging.getLogger("digipersona.dispatcher")
WATCH_SECONDS = 1.0
# A helper that exits sooner than this after its start is restarted after a growing pause (a
# broken configuration must not become a restart loop).
QUICK_EXIT_SECONDS = 10.0
MAX_RESTART_PAUSE = 60.0


def settings_payload(settings: Settings) -> dict[str, Any]:
    """Every setting, secrets in clear: for a helper's stdin only."""
    return {
        name: value.get_secret_value() if isinstance(value, SecretStr) else value
        for name, value in settings.model_dump().items()
    }


class _Slot:
    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self.quick_exits = 0
        self.restart_at = 0.0


class HelperProcesses:
    """Starts, watches and stops serve's publishing helper processes."""

    def __init__(self, settings: Settings, count: int) -> None:
        self.settings = settings
        self._slots = [_Slot() for _ in range(count)]
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    @property
    def pids(self) -> list[int]:
        with self._lock:
            return [s.proc.pid for s in self._slots if s.proc is not None and s.proc.poll() is None]

    def start(self) -> None:
        with self._lock:
            for slot in self._slots:
                self._spawn(slot)
        self._watcher = threading.Thread(target=self._watch, name="dp-helpers", daemon=True)
        self._watcher.start()
        logger.info("started %s publishing helper process(es): %s", len(self._slots), self.pids)

    def _spawn(self, slot: _Slot) -> None:
        payload = json.dumps(
            {"parent": os.getpid(), "settings": settings_payload(self.settings)}, default=str
        ).encode()
        proc = subprocess.Popen(
            [sys.executable, "-m", "digipersona.worker.processes"], stdin=subprocess.PIPE
        )
        assert proc.stdin is not None
        try:
            proc.stdin.write(payload)
            proc.stdin.close()
        except OSError:  # it died at once; the watcher sees the exit and restarts it
            logger.warning("publishing helper %s exited before it read its settings", proc.pid)
        slot.proc = proc
        slot.started = time.monotonic()

    def _watch(self) -> None:
        while not self._stopping.wait(WATCH_SECONDS):
            with self._lock:
                if self._stopping.is_set():
                    return
                for slot in self._slots:
                    self._check(slot, time.monotonic())

    def _check(self, slot: _Slot, now: float) -> None:
        proc = slot.proc
        if proc is not None:
            code = proc.poll()
            if code is None:
                return
            slot.proc = None
            quick = now - slot.started < QUICK_EXIT_SECONDS
            slot.quick_exits = slot.quick_exits + 1 if quick else 0
            pause = min(MAX_RESTART_PAUSE, 2.0 ** (slot.quick_exits - 1)) if quick else 0.0
            slot.restart_at = now + pause
            logger.error(
                "publishing helper process %s exited with code %s; starting another in %.0f s "
                "(its unfinished publications are taken back when their leases expire)",
                proc.pid,
                code,
                pause,
            )
        if now >= slot.restart_at:
            self._spawn(slot)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM every helper (each records what it sent), SIGKILL those still running."""
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join()
        with self._lock:
            procs = [s.proc for s in self._slots if s.proc is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in procs:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.error("publishing helper %s did not stop in time; killing it", proc.pid)
                proc.kill()
                proc.wait()


def run_helper(settings: Settings, parent: int) -> None:
    """A helper's life: publish until SIGTERM or until ``parent`` is gone."""
    from digipersona.kit.logging import configure_logging
    from digipersona.worker.embedded import Dispatcher
    from digipersona.worker.runtime import build_runtime, set_runtime

    configure_logging(settings.log_level, settings.log_format)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # Ctrl-C in serve's terminal reaches its whole process group: serve stops its helpers
    # itself (SIGTERM), after its watcher stopped, so a helper must not quit (and be restarted
    # by a watcher still running) on its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    runtime = build_runtime(settings)
    set_runtime(runtime)
    dispatcher = Dispatcher.for_settings(
        runtime.engine, settings, periodic=False, name="embedded-helper"
    )
    dispatcher.start()
    try:
        while not stop.wait(WATCH_SECONDS):
            if os.getppid() != parent:
                logger.warning("serve (process %s) is gone: publishing helper stops", parent)
                break
    finally:
        dispatcher.stop()
        runtime.close()
        metrics.mark_process_dead(os.getpid())


def main() -> None:
    data = json.loads(sys.stdin.buffer.read())
    run_helper(Settings(**data["settings"]).ensure_secrets(), int(data["parent"]))


if __name__ == "__main__":
    main()
