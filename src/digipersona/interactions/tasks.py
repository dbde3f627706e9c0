"""Jobs of the interactions domain."""

from __future__ import annotations

from typing import Any

from digipersona.interactions import polling
from digipersona.worker import runtime
from digipersona.worker.registry import periodic


@periodic("interactions.poll", every_seconds=60)
def poll_interactions() -> dict[str, Any]:
    """Read back mentions/replies/comments of every connection whose poll is due."""
    current = runtime.current()
    report = polling.poll_due(current.factory, current.settings, current.cipher, current.http)
    polling.mark_replied(current.factory)
    return {"polled": report.polled, "stored": report.stored, "leads": report.leads}
