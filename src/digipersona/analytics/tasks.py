"""Jobs of the analytics domain."""

from __future__ import annotations

from dataclasses import asdict

from digipersona.analytics.sync import sync_metrics
from digipersona.worker import runtime
from digipersona.worker.registry import periodic


@periodic("analytics.sync_metrics", every_seconds=300)
def sync_metrics_job() -> dict[str, int]:
    """Read due publications' metrics (decaying schedule; safe to run twice concurrently)."""
    rt = runtime.current()
    report = sync_metrics(
        rt.factory, rt.cipher, rt.engine.provider, rt.engine.clock, settings=rt.settings
    )
    return asdict(report)
