"""Claiming due publications with a lease, and returning the leases of dead claimers."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from digipersona.db import write_scope
from digipersona.publishing import repository

if TYPE_CHECKING:
    from digipersona.publishing.engine import PublishingEngine

logger = logging.getLogger("digipersona.engine")


def claim_due(engine: PublishingEngine, owner: str, limit: int) -> list[uuid.UUID]:
    """Lease up to ``limit`` due publications to ``owner``; no other claimer can get them."""
    now = engine.clock()
    lease_until = now + timedelta(seconds=engine.settings.publish_lease_seconds)
    with write_scope(engine.factory) as session:
        return repository.lease_due(session, owner, limit, now, lease_until)


def release_expired(engine: PublishingEngine) -> tuple[int, int]:
    """Return leases of dead claimers: unsent rows go back to the queue, in-flight ones to
    reconciliation. Returns (requeued, to_reconcile)."""
    now = engine.clock()
    with write_scope(engine.factory) as session:
        requeued, lost = repository.release_expired(session, now)
    if requeued or lost:
        logger.warning("released %s expired claims and %s lost sends", requeued, lost)
    return requeued, lost


def next_due_at(engine: PublishingEngine) -> datetime | None:
    """When the next claimable publication is due (for the dispatcher's sleep)."""
    with engine.factory() as session:
        return repository.next_due_at(session)
