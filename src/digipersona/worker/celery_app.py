"""Scale-out mode: Celery workers run jobs; ``digipersona scheduler`` claims due work.

Celery receives a publication only when it is due (never a long ETA/countdown: with Redis such
tasks sit in worker memory and are redelivered after the visibility timeout, which would
double-post). The scheduler claims a batch and sends it in chunks of ``CHUNK`` ids; a
redelivered or duplicated message is harmless: ``execute_batch`` only acts on rows whose lease
its owner still holds.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Celery

from digipersona.config import Settings
from digipersona.kit.time import utcnow
from digipersona.publishing import engine as pub_engine
from digipersona.worker import jobs, registry, runtime
from digipersona.worker.embedded import owner_name

logger = logging.getLogger("digipersona.scheduler")
CHUNK = 50  # publications per Celery task


def make_celery(settings: Settings) -> Celery:
    """The Celery app, with every registered task bound by name."""
    if not settings.broker_url:
        raise ValueError("DIGIPERSONA_BROKER_URL is not set: scale-out mode needs a broker")
    app = Celery("digipersona", broker=settings.broker_url)
    app.conf.update(
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    jobs.load_all()
    for name, func in registry.TASKS.items():
        app.task(name=name, bind=False)(func)
    return app


class Scheduler:
    """Claims due publications and hands them to Celery. Several may run at once."""

    def __init__(self, settings: Settings, app: Celery) -> None:
        self.settings = settings
        self.app = app
        self.owner = owner_name("scheduler")
        self.engine = runtime.current().engine
        self._last_maintenance = 0.0
        self._last_periodic = 0.0
        self._clock = registry.PeriodicClock()

    def tick(self) -> int:
        now = time.monotonic()
        if now - self._last_maintenance >= 5.0:
            self._last_maintenance = now
            pub_engine.release_expired(self.engine)
            pub_engine.beat(self.engine, self.owner, "scheduler")
            if now - self._last_periodic >= 60.0:
                self._last_periodic = now
                pub_engine.periodic_checks(self.engine)
            # Domain jobs go to the workers; they claim their own rows, so a second scheduler
            # sending the same job is harmless.
            for name in self._clock.due(now):
                self.app.send_task(name)
        claimed = pub_engine.claim_due(self.engine, self.owner, self.settings.dispatch_batch)
        # Small chunks: each task pays one transaction to prepare and one to record for the
        # whole chunk, and the chunks of one claim spread over the workers.
        for start in range(0, len(claimed), CHUNK):
            chunk = [str(pid) for pid in claimed[start : start + CHUNK]]
            self.app.send_task("publishing.execute_batch", args=[chunk, self.owner])
        return len(claimed)

    def run_forever(self, stop: Any = None) -> None:
        logger.info("scheduler %s started", self.owner)
        while stop is None or not stop.is_set():
            try:
                if self.tick():
                    continue
                due = pub_engine.next_due_at(self.engine)
                wait = self.settings.dispatch_poll_seconds
                if due is not None:
                    wait = max(0.0, min(wait, (due - utcnow()).total_seconds()))
                time.sleep(wait)
            except Exception:
                logger.exception("scheduler tick failed; retrying")
                time.sleep(1.0)
