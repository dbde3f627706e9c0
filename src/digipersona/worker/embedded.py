"""Embedded mode: one dispatcher thread claims due work; a bounded thread pool runs it."""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from digipersona.config import Settings
from digipersona.kit.time import utcnow
from digipersona.notifications import delivery
from digipersona.platforms import errors
from digipersona.publishing import engine as pub_engine
from digipersona.publishing import signals
from digipersona.publishing.engine import PublishingEngine
from digipersona.worker import jobs, registry
from digipersona.worker.maintenance import Maintenance

logger = logging.getLogger("digipersona.dispatcher")
GATHER_SECONDS = 0.02
# Run as soon as a commit queued notification deliveries (not only every 10 s).
NOTIFY_JOB = "notifications.deliver"


_STOP = object()  # tells a send thread to finish


class _SendPool:
    """Worker threads taking prepared publications from one queue.

    Like ``ThreadPoolExecutor`` without the per-item ``Future`` (a condition and locks nobody
    waits on here): at thousands of publications a second under one GIL, that bookkeeping
    was a measurable share of the dispatcher's time. ``shutdown`` sends what is queued first.
    """

    def __init__(self, threads: int, run: Callable[[Any], None]) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._run = run
        self._threads = [
            threading.Thread(target=self._work, name=f"dp-worker_{i}", daemon=True)
            for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, item: Any) -> None:
        self._queue.put(item)

    def _work(self) -> None:
        while (item := self._queue.get()) is not _STOP:
            self._run(item)

    def shutdown(self) -> None:
        for _ in self._threads:
            self._queue.put(_STOP)
        for thread in self._threads:
            thread.join()


def owner_name(kind: str) -> str:
    """A unique, readable lease owner for this process and instance."""
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Dispatcher:
    """Claims due publications and runs them on a pool; safe to run beside other claimers.

    Only the dispatcher thread writes claims and results (in batches, one transaction each);
    pool threads only talk to platforms. That keeps SQLite's single writer uncontended.
    """

    def __init__(
        self,
        engine: PublishingEngine,
        *,
        threads: int,
        batch: int,
        poll_seconds: float,
        periodic: bool = True,
        name: str = "embedded",
    ) -> None:
        self.engine = engine
        self.threads = threads
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.owner = owner_name(name)
        self._pool = _SendPool(threads, self._call)
        self._results: queue.SimpleQueue[tuple[Any, Any]] = queue.SimpleQueue()
        self._inflight = 0
        # Prepared publications (state ``sending``) queued for or running on the pool.
        self.capacity = max(threads * 4, batch * 2)
        # The dispatcher claims once this many slots are free, so it is woken (before the
        # gathering pause ends) once this many results wait: a fast platform never idles the
        # pool behind a fixed pause, a slow one still has its results recorded in batches.
        self._claim_at = min(batch, self.capacity // 2)
        self._gathered = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Periodic domain jobs (polling, autopilot, metrics) run beside publishing, never on the
        # dispatcher thread, and never two runs of the same job at once in this process.
        # ``periodic=False``: publish only (a helper process beside serve's dispatcher, which
        # alone runs the domain jobs and slow housekeeping: no job runs twice at once).
        self._periodic_pool: ThreadPoolExecutor | None = None
        if periodic:
            jobs.load_all()
            self._periodic_pool = ThreadPoolExecutor(
                max_workers=2, thread_name_prefix="dp-periodic"
            )
        self._periodic_running: set[str] = set()
        self._periodic_lock = threading.Lock()
        self._maintenance = Maintenance(
            engine, self.owner, self._submit_job if self._periodic_pool is not None else None
        )

    @classmethod
    def for_settings(
        cls, engine: PublishingEngine, settings: Settings, **options: Any
    ) -> Dispatcher:
        """The dispatcher ``serve`` (or a helper, with ``periodic=False``) runs."""
        return cls(
            engine,
            threads=settings.worker_threads,
            batch=settings.dispatch_batch,
            poll_seconds=settings.dispatch_poll_seconds,
            **options,
        )

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="dp-dispatcher", daemon=True)
        self._thread.start()
        logger.info("dispatcher %s started with %s worker threads", self.owner, self.threads)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._gathered.set()
        signals.wake()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown()
        if self._periodic_pool is not None:
            self._periodic_pool.shutdown(wait=True, cancel_futures=True)
        self._record()

    @property
    def inflight(self) -> int:
        return self._inflight

    # -- work --------------------------------------------------------------------------------
    def tick(self) -> int:
        """One round: maintenance when due, then record finished work, claim what the pool can
        take and prepare it, all in one transaction."""
        self._maintenance.tick(time.monotonic())
        if self._periodic_pool is not None and delivery.take_wake():
            self._submit_job(NOTIFY_JOB)
        finished = self._take_results()
        busy = self._inflight - len(finished)
        free = self.capacity - busy
        # Each claim reads the due rows once, so claim in batches, not one slot at a time.
        limit = min(free, self.batch) if free >= self._claim_at or not busy else 0
        try:
            recorded, prepared, claimed = pub_engine.cycle(self.engine, self.owner, finished, limit)
        except Exception:
            # Never lose results to a failing claim: record them on their own, then re-raise.
            if finished:
                try:
                    pub_engine.record_outcomes(self.engine, finished, self.owner)
                finally:
                    self._inflight -= len(finished)
            raise
        self._inflight -= len(finished)
        for item in prepared:
            self._inflight += 1
            self._pool.submit(item)
        return len(recorded) + len(claimed)

    def _submit_periodic(self, now: float) -> None:
        self._maintenance.hand_out(now)

    def _submit_job(self, name: str) -> None:
        """Run a registered job on the periodic pool unless it is running already."""
        assert self._periodic_pool is not None
        with self._periodic_lock:
            if name in self._periodic_running:
                if name == NOTIFY_JOB:
                    delivery.wake()  # new rows may have missed the running claim: run again
                return
            self._periodic_running.add(name)
        self._periodic_pool.submit(self._run_periodic, name)

    def _run_periodic(self, name: str) -> None:
        try:
            registry.TASKS[name]()
        except Exception:
            logger.exception("periodic job %s failed; it runs again at its next interval", name)
        finally:
            with self._periodic_lock:
                self._periodic_running.discard(name)

    def _call(self, prepared: Any) -> None:
        try:
            outcome = pub_engine.call_provider(self.engine, prepared)
        except BaseException as exc:  # never lose a result: it becomes "unknown"
            logger.exception("publication %s crashed its worker thread", prepared.publication_id)
            outcome = errors.UnknownOutcome(f"worker thread crashed: {type(exc).__name__}")
        self._results.put((prepared, outcome))
        # Wake the dispatcher once a claim's worth is back, or everything is (an unlocked read
        # of ``_inflight``: a stale value only means one pause of at most GATHER_SECONDS).
        if self._results.qsize() >= min(self._claim_at, self._inflight):
            self._gathered.set()

    def _take_results(self) -> list[tuple[Any, Any]]:
        batch = []
        while True:
            try:
                batch.append(self._results.get_nowait())
            except queue.Empty:
                return batch

    def _record(self) -> int:
        batch = self._take_results()
        if batch:
            try:
                pub_engine.record_outcomes(self.engine, batch, self.owner)
            finally:
                self._inflight -= len(batch)
        return len(batch)

    def _sleep_seconds(self) -> float:
        due = pub_engine.next_due_at(self.engine)
        if due is None:
            return self.poll_seconds
        delta = (due - utcnow()).total_seconds()
        return max(0.0, min(self.poll_seconds, delta))

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.tick()
                if self._inflight:
                    # Let results gather so one transaction records many of them (each commit
                    # costs milliseconds): until a claim's worth is back, at most a moment.
                    self._gathered.wait(GATHER_SECONDS)
                    self._gathered.clear()
                elif not worked:
                    signals.wait(self._sleep_seconds())
            except Exception:
                logger.exception("dispatcher tick failed; retrying")
                self._stop.wait(1.0)

    def drain(self, timeout: float = 30.0) -> None:
        """Run until nothing is due or in flight (tests and one-shot CLI use)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            worked = self.tick()
            if not worked and self._inflight == 0:
                due = pub_engine.next_due_at(self.engine)
                if due is None or due > utcnow():
                    return
            if self._inflight:
                self._gathered.wait(0.01)
                self._gathered.clear()
            elif not worked:
                signals.wait(0.01)
        raise TimeoutError("dispatcher did not drain in time")
