"""Recording what the platform calls answered: successes in bulk, failures by the retry policy."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from digipersona.db import write_scope
from digipersona.models import PublicationState
from digipersona.platforms import errors
from digipersona.platforms.base import PublishResult
from digipersona.publishing import metrics, repository, summary
from digipersona.publishing.prepare import Prepared, part_dict
from digipersona.publishing.retry import apply_failure
from digipersona.publishing.statuses import sync_post_statuses

if TYPE_CHECKING:
    from digipersona.publishing.engine import PublishingEngine

Outcome = PublishResult | errors.PlatformError


def record_outcomes(
    engine: PublishingEngine, outcomes: list[tuple[Prepared, Outcome]], owner: str
) -> dict[uuid.UUID, str]:
    """Write many results in one transaction; returns each publication's new state."""
    if not outcomes:
        return {}
    now = engine.clock()
    with write_scope(engine.factory) as session:
        return record(session, engine, outcomes, owner, now)


def record(
    session: Session,
    engine: PublishingEngine,
    outcomes: list[tuple[Prepared, Outcome]],
    owner: str,
    now: datetime,
) -> dict[uuid.UUID, str]:
    """``record_outcomes`` inside a transaction.

    Successes (the common case) are one executemany UPDATE plus one read and one UPDATE per
    post status; failures take the ORM path.
    """
    successes: list[tuple[Prepared, PublishResult]] = []
    failures: list[tuple[Prepared, errors.PlatformError]] = []
    for prepared, outcome in outcomes:
        if isinstance(outcome, PublishResult):
            successes.append((prepared, outcome))
        else:
            failures.append((prepared, outcome))
    states: dict[uuid.UUID, str] = {}
    if successes:
        _mark_published(session, successes, now)
    if failures:
        states.update(_record_failures(session, engine, failures, owner, now))
    if successes:
        states.update(_settle_successes(session, successes, now))
    return states


def _mark_published(
    session: Session, successes: list[tuple[Prepared, PublishResult]], now: datetime
) -> None:
    with_parts, without = [], []
    for prepared, result in successes:
        params: dict[str, Any] = {
            "pid": prepared.publication_id,
            "eid": result.external_id,
            "url": result.url,
        }
        if result.parts:
            params["parts"] = [part_dict(p) for p in result.parts]
            with_parts.append(params)
        else:
            without.append(params)
    repository.mark_published(session, with_parts, without, now)


def _record_failures(
    session: Session,
    engine: PublishingEngine,
    failures: list[tuple[Prepared, errors.PlatformError]],
    owner: str,
    now: datetime,
) -> dict[uuid.UUID, str]:
    states: dict[uuid.UUID, str] = {}
    pubs, posts = repository.publications_with_posts(
        session, [p.publication_id for p, _ in failures]
    )
    for prepared, outcome in failures:
        pub = pubs.get(prepared.publication_id)
        if pub is None:
            states[prepared.publication_id] = "lost"
            continue
        states[pub.id] = apply_failure(
            session, engine.settings, engine.rng, pub, posts[pub.post_id], outcome, owner, now
        )
    session.flush()
    return states


def _settle_successes(
    session: Session, successes: list[tuple[Prepared, PublishResult]], now: datetime
) -> dict[uuid.UUID, str]:
    """The posts' statuses follow; published (or ``lost``: deleted meanwhile), counted."""
    present = sync_post_statuses(session, {p.post_id for p, _ in successes}, now)
    summary.refresh(session, [p.publication_id for p, _ in successes])
    states: dict[uuid.UUID, str] = {}
    counts: dict[str, int] = {}
    lateness: dict[str, Any] = {}
    for prepared, _result in successes:
        if prepared.publication_id not in present:  # deleted meanwhile
            states[prepared.publication_id] = "lost"
            continue
        states[prepared.publication_id] = PublicationState.published.value
        platform = prepared.platform
        counts[platform] = counts.get(platform, 0) + 1
        if platform not in lateness:
            lateness[platform] = metrics.LATENESS.labels(platform)
        late = (now - prepared.scheduled_at).total_seconds()
        lateness[platform].observe(max(0.0, late))
    for platform, count in counts.items():
        metrics.PUBLICATIONS.labels(platform, "published").inc(count)
    return states
