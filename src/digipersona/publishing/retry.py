"""The retry policy: what a failed platform call does to its publication, by error class
(``platforms/errors.py``)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from digipersona.config import Settings
from digipersona.kit.words import plural
from digipersona.models import ConnectionState, Post, Publication, PublicationState
from digipersona.notifications.service import notify
from digipersona.platforms import errors
from digipersona.publishing import metrics, repository
from digipersona.publishing.settle import hold, pause, set_final

# How many earlier errors a publication keeps (the newest).
ERRORS_KEPT = 20


def backoff(settings: Settings, rng: random.Random, attempts: int) -> timedelta:
    """Exponential, capped, with jitter (half to all of the step)."""
    base = settings.retry_base_seconds * (2 ** max(0, attempts - 1))
    capped = min(base, settings.retry_max_seconds)
    return timedelta(seconds=capped * (0.5 + rng.random() / 2))


def apply_failure(
    session: Session,
    settings: Settings,
    rng: random.Random,
    pub: Publication,
    post: Post,
    exc: errors.PlatformError,
    owner: str,
    now: datetime,
) -> str:
    """Record ``exc`` on the publication ``owner`` sent and decide what happens next; returns
    the outcome (``retry``, ``rate_limited``, or the new state; ``lost`` without the lease)."""
    if pub.state != PublicationState.sending.value or pub.lease_owner != owner:
        # The lease was lost meanwhile; whoever holds the row now decides.
        return "lost"
    _note_error(pub, exc, now)
    if isinstance(exc, errors.RateLimited):
        pub.state = PublicationState.scheduled.value
        pub.next_attempt_at = max(exc.retry_at, now + timedelta(seconds=1))
        return "rate_limited"
    if isinstance(exc, errors.AuthExpired | errors.QuotaExhausted):
        _pause_connection(session, pub, exc)
        return PublicationState.held.value
    if isinstance(exc, errors.UnknownOutcome):
        pub.state = PublicationState.unknown.value
        pub.reconcile = True
        pub.next_attempt_at = now + backoff(settings, rng, 1) / 10
        return PublicationState.unknown.value
    if isinstance(exc, errors.Transient) and pub.attempts < settings.publish_max_attempts:
        pub.state = PublicationState.scheduled.value
        pub.next_attempt_at = now + backoff(settings, rng, pub.attempts)
        return "retry"
    _fail(session, pub, post, exc)
    return PublicationState.failed.value


def _note_error(pub: Publication, exc: errors.PlatformError, now: datetime) -> None:
    error_class = type(exc).__name__
    pub.error_class = error_class
    pub.last_error = exc.message
    pub.errors = [
        *pub.errors[-(ERRORS_KEPT - 1) :],
        {"at": now.isoformat(), "class": error_class, "message": exc.message},
    ]
    pub.lease_owner = pub.lease_expires_at = None
    metrics.PUBLICATIONS.labels(pub.platform, error_class).inc()


def _pause_connection(
    session: Session, pub: Publication, exc: errors.AuthExpired | errors.QuotaExhausted
) -> None:
    connection = repository.connection_by_id(session, pub.connection_id)
    assert connection is not None
    if isinstance(exc, errors.AuthExpired):
        pause(session, connection, ConnectionState.needs_reconnect, exc.message)
        hold(pub, f"Reconnect the {pub.platform} account: {exc.message}")
    else:
        pause(session, connection, ConnectionState.paused, exc.message, until=exc.retry_at)
        hold(pub, exc.message)


def _fail(session: Session, pub: Publication, post: Post, exc: errors.PlatformError) -> None:
    reason = exc.message
    if isinstance(exc, errors.Transient):
        reason = f"Gave up after {plural(pub.attempts, 'attempt')}: {exc.message}"
    set_final(session, pub, post, PublicationState.failed, reason)
    notify(
        session,
        workspace_id=pub.workspace_id,
        kind="publication.failed",
        title=f"A {pub.platform} post failed",
        body=reason,
        data={"publication_id": str(pub.id), "post_id": str(post.id)},
    )
