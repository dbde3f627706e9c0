"""Jobs of the interactions domain."""

from __future__ import annotations

from typing import Any

from digipersona.interactions import lead_learning, polling
from digipersona.worker import runtime
from digipersona.worker.registry import periodic


@periodic("interactions.poll", every_seconds=60)
def poll_interactions() -> dict[str, Any]:
    """Read back mentions/replies/comments of every connection whose poll is due."""
    current = runtime.current()
    report = polling.poll_due(current.factory, current.settings, current.cipher, current.http)
    polling.mark_replied(current.factory)
    return {"polled": report.polled, "stored": report.stored, "leads": report.leads}


@periodic("interactions.leads_retrain", every_seconds=3600)
def retrain_lead_models() -> dict[str, Any]:
    """Refit the lead model of each workspace with new inbox labels, at most every
    ``DIGIPERSONA_LEAD_RETRAIN_HOURS`` hours (0, the default: never; the CLI does it by hand)."""
    current = runtime.current()
    return lead_learning.retrain_due(current.factory, current.settings.lead_retrain_hours)
