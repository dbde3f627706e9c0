"""The calendar: a range query over publications, and the secret iCalendar feed."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digipersona.auth.principal import Principal
from digipersona.exceptions import NotFound, ValidationFailed
from digipersona.kit import security
from digipersona.kit.time import ensure_utc
from digipersona.models import Heartbeat, Persona, Post, Publication, Workspace
from digipersona.scheduling.ical import CalendarEvent, build_calendar

FEED_PREFIX = "dp_ical_"
MAX_RANGE = timedelta(days=400)


def entries(
    session: Session,
    workspace_id: uuid.UUID,
    start: datetime,
    end: datetime,
    persona_id: uuid.UUID | None = None,
) -> list[tuple[Publication, Post, Persona]]:
    """Publications scheduled in [start, end), with their post and persona."""
    start, end = ensure_utc(start), ensure_utc(end)
    if end <= start:
        raise ValidationFailed("'end' must be after 'start'.")
    if end - start > MAX_RANGE:
        raise ValidationFailed("Ask for at most 400 days at a time.")
    stmt = (
        select(Publication, Post, Persona)
        .join(Post, Post.id == Publication.post_id)
        .join(Persona, Persona.id == Post.persona_id)
        .where(
            Publication.workspace_id == workspace_id,
            Publication.scheduled_at >= start,
            Publication.scheduled_at < end,
        )
        .order_by(Publication.scheduled_at, Publication.platform)
    )
    if persona_id is not None:
        stmt = stmt.where(Post.persona_id == persona_id)
    return [(p, post, persona) for p, post, persona in session.execute(stmt).all()]


def title_of(post: Post) -> str:
    first = post.body.strip().splitlines()[0] if post.body.strip() else "(empty)"
    return first[:80] + ("…" if len(first) > 80 else "")


def rotate_feed(session: Session, principal: Principal, base_url: str) -> str:
    """A new secret feed URL for the workspace; the old one stops working."""
    workspace = session.get(Workspace, principal.workspace_id)
    if workspace is None:
        raise NotFound("No such workspace.")
    token = security.new_token(FEED_PREFIX, 24)
    workspace.ical_token_hash = security.token_hash(token)
    session.flush()
    return f"{base_url.rstrip('/')}/ical/{token}.ics"


def revoke_feed(session: Session, principal: Principal) -> None:
    workspace = session.get(Workspace, principal.workspace_id)
    if workspace is not None:
        workspace.ical_token_hash = None
        session.flush()


def feed(session: Session, token: str, now: datetime) -> bytes:
    """The feed behind a secret token: 60 days back, 400 days ahead."""
    workspace = session.scalars(
        select(Workspace).where(Workspace.ical_token_hash == security.token_hash(token))
    ).first()
    if workspace is None:
        raise NotFound("This calendar feed does not exist or was revoked.")
    rows = entries(session, workspace.id, now - timedelta(days=60), now + timedelta(days=340))
    events = [
        CalendarEvent(
            uid=f"{pub.id}@digipersona",
            start=pub.scheduled_at,
            summary=f"[{persona.name} · {pub.platform}] {title_of(post)}",
            description=f"State: {pub.state}\n\n{post.body}",
            url=pub.external_url,
            state=pub.state,
        )
        for pub, post, persona in rows
    ]
    return build_calendar(f"digipersona: {workspace.name}", events)


def jobs_summary(
    session: Session, workspace_id: uuid.UUID, now: datetime, stale_seconds: int
) -> dict[str, Any]:
    """Queue depth by state, what is due, failures by class and process heartbeats."""
    by_state = dict(
        session.execute(
            select(Publication.state, func.count())
            .where(Publication.workspace_id == workspace_id)
            .group_by(Publication.state)
        ).all()
    )
    due = select(Publication).where(
        Publication.workspace_id == workspace_id,
        Publication.state.in_(["scheduled", "unknown"]),
        Publication.next_attempt_at <= now,
    )
    due_now = session.scalar(select(func.count()).select_from(due.subquery())) or 0
    oldest = session.scalar(
        select(func.min(Publication.next_attempt_at)).where(
            Publication.workspace_id == workspace_id,
            Publication.state.in_(["scheduled", "unknown"]),
        )
    )
    failures = dict(
        session.execute(
            select(Publication.error_class, func.count())
            .where(Publication.workspace_id == workspace_id, Publication.error_class.is_not(None))
            .group_by(Publication.error_class)
        ).all()
    )
    beats = [
        {"name": b.name, "kind": b.kind, "beat_at": ensure_utc(b.beat_at).isoformat()}
        for b in session.scalars(select(Heartbeat).order_by(Heartbeat.beat_at.desc()).limit(20))
    ]
    healthy = scheduler_alive(session, now, stale_seconds)
    return {
        "by_state": {str(k): int(v) for k, v in by_state.items()},
        "due_now": int(due_now),
        "oldest_due_at": ensure_utc(oldest).isoformat() if oldest else None,
        "failures_by_class": {str(k): int(v) for k, v in failures.items()},
        "heartbeats": beats,
        "scheduler_healthy": healthy,
    }


def scheduler_alive(session: Session, now: datetime, stale_seconds: int) -> bool:
    last = session.scalar(select(func.max(Heartbeat.beat_at)).where(Heartbeat.kind == "scheduler"))
    return last is not None and now - ensure_utc(last) <= timedelta(seconds=stale_seconds)
