"""Embedded mode: one dispatcher thread claims due work; a bounded thread pool runs it."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from digipersona.kit.time import utcnow
from digipersona.publishing import engine as pub_engine
from digipersona.publishing import signals
from digipersona.publishing.engine import Engine

logger = logging.getLogger("digipersona.dispatcher")
MAINTENANCE_SECONDS = 5.0


def owner_name(kind: str) -> str:
    """A unique, readable lease owner for this process and instance."""
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Dispatcher:
    """Claims due publications and runs them on a pool; safe to run beside other claimers."""

    def __init__(self, engine: Engine, *, threads: int, batch: int, poll_seconds: float) -> None:
        self.engine = engine
        self.threads = threads
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.owner = owner_name("embedded")
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="dp-worker")
        self._inflight = 0
        self._inflight_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_maintenance = 0.0

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="dp-dispatcher", daemon=True)
        self._thread.start()
        logger.info("dispatcher %s started with %s worker threads", self.owner, self.threads)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        signals.wake()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=False)

    @property
    def inflight(self) -> int:
        with self._inflight_lock:
            return self._inflight

    # -- work --------------------------------------------------------------------------------
    def tick(self) -> int:
        """One round: maintenance when due, then claim as much as the pool can take."""
        now = time.monotonic()
        if now - self._last_maintenance >= MAINTENANCE_SECONDS:
            self._last_maintenance = now
            pub_engine.release_expired(self.engine)
            pub_engine.beat(self.engine, self.owner, "scheduler")
        free = self.threads * 2 - self.inflight
        if free <= 0:
            return 0
        claimed = pub_engine.claim_due(self.engine, self.owner, min(free, self.batch))
        for publication_id in claimed:
            with self._inflight_lock:
                self._inflight += 1
            self._pool.submit(self._run, publication_id)
        return len(claimed)

    def _run(self, publication_id: uuid.UUID) -> None:
        try:
            pub_engine.execute(self.engine, publication_id, self.owner)
        except Exception:
            logger.exception("publication %s crashed its worker thread", publication_id)
        finally:
            with self._inflight_lock:
                self._inflight -= 1
            signals.wake()

    def _sleep_seconds(self) -> float:
        due = pub_engine.next_due_at(self.engine)
        if due is None:
            return self.poll_seconds
        delta = (due - utcnow()).total_seconds()
        return max(0.0, min(self.poll_seconds, delta))

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                claimed = self.tick()
                if claimed:
                    continue
                signals.wait(
                    self._sleep_seconds() if self.inflight < self.threads * 2 else self.poll_seconds
                )
            except Exception:
                logger.exception("dispatcher tick failed; retrying")
                self._stop.wait(1.0)

    def drain(self, timeout: float = 30.0) -> None:
        """Run until nothing is due or in flight (tests and one-shot CLI use)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            claimed = self.tick()
            if not claimed and self.inflight == 0:
                due = pub_engine.next_due_at(self.engine)
                if due is None or due > utcnow():
                    return
            time.sleep(0.005)
        raise TimeoutError("dispatcher did not drain in time")
