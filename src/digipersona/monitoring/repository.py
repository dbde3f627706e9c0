"""The queries behind the database gauges: each one short range of an index, or a small table."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from digipersona.kit.time import ensure_utc
from digipersona.models import (
    Connection,
    ConnectionState,
    GenerationRule,
    Heartbeat,
    InteractionPoll,
    NotificationWebhook,
    Publication,
    PublicationState,
)

DUE_STATES = (PublicationState.scheduled.value, PublicationState.unknown.value)
EXPIRY_HORIZON = timedelta(days=7)


@dataclass
class Snapshot:
    """What the gauges show; ages in seconds, None when there is nothing to measure."""

    publications: dict[str, int] = field(default_factory=dict)
    overdue: int = 0
    oldest_overdue_seconds: float = 0.0
    connections: dict[str, int] = field(default_factory=dict)
    connections_expiring_soon: int = 0
    scheduler_heartbeat_seconds: float | None = None
    autopilot_rules_failing: int = 0
    last_poll_seconds: float | None = None
    poll_overdue_seconds: float | None = None


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else max(0.0, (now - ensure_utc(then)).total_seconds())


def read_snapshot(session: Session, now: datetime) -> Snapshot:
    snap = Snapshot()
    # The claim index (state, next_attempt_at, ...) answers these three from its pages alone.
    rows = session.execute(
        select(Publication.state, func.count()).group_by(Publication.state)
    ).all()
    snap.publications = {state.value: 0 for state in PublicationState}
    snap.publications.update({str(state): int(count) for state, count in rows})
    overdue = (Publication.state.in_(DUE_STATES), Publication.next_attempt_at <= now)
    snap.overdue = int(session.scalar(select(func.count()).where(*overdue)) or 0)
    oldest = session.scalar(select(func.min(Publication.next_attempt_at)).where(*overdue))
    snap.oldest_overdue_seconds = _age(now, oldest) or 0.0
    snap.connections = {state.value: 0 for state in ConnectionState}
    snap.connections.update(
        {
            str(state): int(count)
            for state, count in session.execute(
                select(Connection.state, func.count()).group_by(Connection.state)
            ).all()
        }
    )
    snap.connections_expiring_soon = int(
        session.scalar(
            select(func.count()).where(
                Connection.expires_at.is_not(None),
                Connection.expires_at <= now + EXPIRY_HORIZON,
                Connection.refresh_token_enc.is_(None),
                Connection.state.in_(
                    [ConnectionState.active.value, ConnectionState.expiring.value]
                ),
            )
        )
        or 0
    )
    snap.scheduler_heartbeat_seconds = _age(now, last_heartbeat(session, "scheduler"))
    snap.autopilot_rules_failing = int(
        session.scalar(
            select(func.count()).where(GenerationRule.enabled, GenerationRule.failures > 0)
        )
        or 0
    )
    readable = InteractionPoll.unsupported_reason.is_(None)
    snap.last_poll_seconds = _age(
        now, session.scalar(select(func.max(InteractionPoll.last_polled_at)).where(readable))
    )
    snap.poll_overdue_seconds = _age(
        now, session.scalar(select(func.min(InteractionPoll.next_poll_at)).where(readable))
    )
    return snap


def last_heartbeat(session: Session, kind: str) -> datetime | None:
    """When a process of ``kind`` (``scheduler``: a scheduler or dispatcher) last beat."""
    return session.scalar(select(func.max(Heartbeat.beat_at)).where(Heartbeat.kind == kind))


def database_now(session: Session) -> datetime:
    """The database server's clock (PostgreSQL's ``now()``)."""
    now = session.scalar(text("SELECT now()"))
    assert isinstance(now, datetime)
    return now


def stored_secrets(session: Session) -> list[str]:
    """Every encrypted secret at rest: connection tokens and notification webhook secrets."""
    stored: list[str] = []
    for access, refresh in session.execute(
        select(Connection.access_token_enc, Connection.refresh_token_enc)
    ):
        stored.extend(v for v in (access, refresh) if v)
    stored.extend(session.scalars(select(NotificationWebhook.secret_enc)))
    return stored


def connected_platforms(session: Session) -> set[str]:
    """The platforms any account is connected on."""
    return set(session.scalars(select(Connection.platform).distinct()))
