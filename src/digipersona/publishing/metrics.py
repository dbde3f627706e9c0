"""Prometheus metrics of the publishing engine."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import Counter, Histogram

from digipersona.kit.metrics import REGISTRY

PUBLICATIONS = Counter(
    "digipersona_publications_total",
    "Publication attempts by platform and outcome (published, missed, or the error class).",
    ["platform", "outcome"],
    registry=REGISTRY,
)
LATENESS = Histogram(
    "digipersona_publication_lateness_seconds",
    "Seconds between a publication's scheduled time and its publication.",
    ["platform"],
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
    registry=REGISTRY,
)
PROVIDER_LATENCY = Histogram(
    "digipersona_provider_latency_seconds",
    "Duration of provider publish calls by platform and outcome.",
    ["platform", "outcome"],
    registry=REGISTRY,
)


def observe_attempt(platform: str, outcome: str, elapsed: timedelta) -> None:
    PROVIDER_LATENCY.labels(platform, outcome).observe(elapsed.total_seconds())
