"""Scale-out mode: Celery workers run jobs; ``digipersona scheduler`` claims due work.

Celery receives a publication only when it is due (never a long ETA/countdown: with Redis such
tasks sit in worker memory and are redelivered after the visibility timeout, which would
double-post). The scheduler claims a batch and sends it in chunks of ``CHUNK`` ids; a
redelivered or duplicated message is harmless: ``execute_batch`` only acts on rows whose lease
its owner still holds.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from celery import Celery
from celery.signals import worker_process_shutdown

from digipersona import db
from digipersona.config import ConfigError, Settings
from digipersona.kit import metrics
from digipersona.kit.time import utcnow
from digipersona.kit.urls import without_password
from digipersona.publishing import engine as pub_engine
from digipersona.worker import jobs, registry, runtime
from digipersona.worker.embedded import owner_name
from digipersona.worker.maintenance import Maintenance

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
    worker_process_shutdown.connect(_forget_metrics_of_child, weak=False)
    return app


def _forget_metrics_of_child(pid: int | None = None, **_: Any) -> None:
    """A prefork child exits: its live gauges leave the shared metric files."""
    metrics.mark_process_dead(pid or os.getpid())


def warn_if_unscraped(role: str) -> None:
    """A worker or scheduler counting only in memory: say so once, at start."""
    if not metrics.multiprocess_enabled():
        logger.warning(
            "PROMETHEUS_MULTIPROC_DIR is not set: this %s's publishing counters reach no "
            "scrape (docs/monitoring.md)",
            role,
        )


def check_connections(settings: Settings, app: Celery) -> list[tuple[str, str]]:
    """Reach the database and the broker once; what was reached, passwords hidden.

    Raises ``ConfigError`` naming the one that cannot be reached, so a scheduler never runs
    silently against nothing.
    """
    database = without_password(settings.effective_database_url)
    broker = without_password(settings.broker_url or "")
    try:
        db.ping(runtime.current().sa_engine)
    except Exception as exc:  # any driver error: say which database, not a traceback
        raise ConfigError(f"Cannot reach the database {database}: {type(exc).__name__}") from None
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=2, interval_start=0.5, interval_step=0.5)
    except Exception as exc:  # kombu raises the transport's own errors
        raise ConfigError(f"Cannot reach the broker {broker}: {type(exc).__name__}") from None
    return [("broker", broker), ("database", database)]


class Scheduler:
    """Claims due publications and hands them to Celery. Several may run at once."""

    def __init__(self, settings: Settings, app: Celery) -> None:
        self.settings = settings
        self.app = app
        self.owner = owner_name("scheduler")
        self.engine = runtime.current().engine
        # Domain jobs go to the workers.
        self._maintenance = Maintenance(self.engine, self.owner, self.app.send_task)

    def tick(self) -> int:
        self._maintenance.tick(time.monotonic())
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


def broker_reachable(settings: Settings, timeout: float = 3.0) -> str | None:
    """None when the broker accepts a connection, else why not (for ``digipersona doctor``)."""
    app = make_celery(settings)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=timeout
            )
    except Exception as exc:  # any transport error means "unreachable"
        return f"{type(exc).__name__}: {exc}"
    return None


def answering_workers(settings: Settings, timeout: float = 2.0) -> list[str]:
    """The names of the Celery workers that answer a ping within ``timeout``."""
    replies = make_celery(settings).control.ping(timeout=timeout) or []
    return sorted(name for reply in replies for name in reply)
