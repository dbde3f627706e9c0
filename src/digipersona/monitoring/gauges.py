"""Gauges read from the database when Prometheus scrapes, cached for a few seconds.

The database holds the truth about the queue, the connections and the heartbeats whatever
process did the work, so these need no multiprocess files: the scraped process asks the
database, at most once per ``ttl`` seconds however many scrapers there are.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker

from digipersona.kit.time import utcnow
from digipersona.monitoring.repository import Snapshot, read_snapshot

logger = logging.getLogger(__name__)
TTL_SECONDS = 5.0


class DatabaseGauges(Collector):
    """A Prometheus collector over ``read_snapshot``; ``digipersona_database_up`` 0 on failure."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        clock: Callable[[], datetime] = utcnow,
        ttl: float = TTL_SECONDS,
    ) -> None:
        self.factory = factory
        self.clock = clock
        self.ttl = ttl
        self._lock = threading.Lock()
        self._read_at = -math.inf
        self._snapshot: Snapshot | None = None

    def snapshot(self) -> Snapshot | None:
        with self._lock:  # one scrape reads, a concurrent one waits and shares the answer
            if time.monotonic() - self._read_at >= self.ttl:
                try:
                    with self.factory() as session:
                        self._snapshot = read_snapshot(session, self.clock())
                except Exception as exc:  # a scrape must answer even with the database down
                    logger.warning("database gauges unavailable: %s", type(exc).__name__)
                    self._snapshot = None
                self._read_at = time.monotonic()
            return self._snapshot

    def collect(self) -> Iterable[Metric]:
        snap = self.snapshot()
        yield GaugeMetricFamily(
            "digipersona_database_up",
            "1 when the scraped process could read the database gauges.",
            value=0 if snap is None else 1,
        )
        if snap is not None:
            yield from _families(snap)


def _labelled(name: str, doc: str, label: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


def _families(snap: Snapshot) -> Iterable[Metric]:
    yield _labelled(
        "digipersona_publications_in_state",
        "Publications by state (the whole table).",
        "state",
        snap.publications,
    )
    yield GaugeMetricFamily(
        "digipersona_publications_overdue",
        "Publications due (scheduled or awaiting reconciliation) and not yet claimed.",
        value=snap.overdue,
    )
    yield GaugeMetricFamily(
        "digipersona_publications_overdue_oldest_seconds",
        "How long the oldest overdue publication has been due (0: none).",
        value=snap.oldest_overdue_seconds,
    )
    yield _labelled(
        "digipersona_connections_in_state",
        "Connections by state.",
        "state",
        snap.connections,
    )
    yield GaugeMetricFamily(
        "digipersona_connections_expiring_soon",
        "Connections whose token ends within 7 days and cannot be refreshed.",
        value=snap.connections_expiring_soon,
    )
    yield GaugeMetricFamily(
        "digipersona_scheduler_heartbeat_age_seconds",
        "Seconds since the newest scheduler or dispatcher heartbeat (+Inf: never).",
        value=math.inf
        if snap.scheduler_heartbeat_seconds is None
        else snap.scheduler_heartbeat_seconds,
    )
    yield GaugeMetricFamily(
        "digipersona_autopilot_rules_failing",
        "Enabled autopilot rules whose last run failed.",
        value=snap.autopilot_rules_failing,
    )
    if snap.last_poll_seconds is not None:
        yield GaugeMetricFamily(
            "digipersona_interactions_last_poll_age_seconds",
            "Seconds since the newest interaction poll of any readable connection.",
            value=snap.last_poll_seconds,
        )
    if snap.poll_overdue_seconds is not None:
        yield GaugeMetricFamily(
            "digipersona_interactions_poll_overdue_seconds",
            "How long the most overdue readable connection has waited for its poll (0: none).",
            value=snap.poll_overdue_seconds,
        )


def gauges_registry(factory: sessionmaker[Session]) -> CollectorRegistry:
    """A registry of its own: the scrape appends it to the process metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseGauges(factory))
    return registry
