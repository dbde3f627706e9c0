"""Prometheus metrics shared by every process, and the text one scrape returns.

Counters live where the work happens: the web process, serve's publishing helper processes,
Celery workers (and their prefork children) and schedulers. With ``PROMETHEUS_MULTIPROC_DIR``
set, prometheus-client's multiprocess mode writes every process's values to files in that
directory, and a scrape of the web process sums the files of all of them (docs/monitoring.md
says why this mode and how to set it up). The variable must be set before prometheus-client is
imported: ``digipersona serve`` sets a private directory itself when none is given (see
``kit/multiproc.py``); workers and schedulers use the one the operator gives them.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)

from digipersona.kit.multiproc import MULTIPROC_ENV

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "digipersona_http_requests_total",
    "HTTP requests by method, route and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "digipersona_http_request_duration_seconds",
    "HTTP request latency by route.",
    ["route"],
    registry=REGISTRY,
)
LOGIN_FAILURES = Counter(
    "digipersona_login_failures_total", "Failed login attempts.", registry=REGISTRY
)
INTERACTION_POLLS = Counter(
    "digipersona_interaction_polls_total",
    "Interaction read-back polls of one connection, by outcome.",
    ["outcome"],
    registry=REGISTRY,
)
METRICS_SYNC_READS = Counter(
    "digipersona_metrics_sync_reads_total",
    "Analytics sync: publications read (snapshot) or not (waiting, failed, unsupported).",
    ["outcome"],
    registry=REGISTRY,
)
AUTOPILOT_RUNS = Counter(
    "digipersona_autopilot_runs_total",
    "Autopilot rule runs by the run's status (crashed: the run raised).",
    ["status"],
    registry=REGISTRY,
)
AI_REQUESTS = Counter(
    "digipersona_ai_requests_total",
    "Requests to the AI provider by provider and outcome (ok or the error class).",
    ["provider", "outcome"],
    registry=REGISTRY,
)
AI_LATENCY = Histogram(
    "digipersona_ai_request_duration_seconds",
    "AI provider request duration by provider.",
    ["provider"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120),
    registry=REGISTRY,
)


def multiprocess_enabled() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def exposition(*extra: CollectorRegistry) -> bytes:
    """One scrape: every process's metrics (or this one's), then the ``extra`` registries."""
    if multiprocess_enabled():
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        parts = [generate_latest(merged)]
    else:
        parts = [generate_latest(REGISTRY)]
    parts.extend(generate_latest(registry) for registry in extra)
    return b"".join(parts)


def start_exporter(port: int, host: str) -> None:
    """Serve this host's metric files over HTTP from a background thread: for workers on a
    host without the web process (one exporter per host, never beside the web process, whose
    scrape already sums the same files)."""
    if not multiprocess_enabled():
        raise ValueError(f"a metrics exporter needs {MULTIPROC_ENV} (docs/monitoring.md)")
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    start_http_server(port, addr=host, registry=registry)


def mark_process_dead(pid: int) -> None:
    """A process that exits: its live gauge files go (its counters stay in the sums)."""
    if multiprocess_enabled():
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
