"""Scheduling posts into publications: next free slot or an explicit time, per connection."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from digipersona.audit import service as audit
from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.config import Settings
from digipersona.exceptions import Conflict, NotFound, ValidationFailed
from digipersona.kit.time import ensure_utc, utcnow
from digipersona.models import (
    ACTIVE_STATES,
    Connection,
    Post,
    PostStatus,
    Publication,
    PublicationState,
)
from digipersona.publishing import repository, signals
from digipersona.publishing.statuses import sync_post_status
from digipersona.scheduling.slots import apply_jitter, next_free_slot

MOVABLE = (PublicationState.scheduled.value, PublicationState.held.value)
PAST_TOLERANCE = timedelta(seconds=5)


def _post(session: Session, principal: Principal, post_id: uuid.UUID) -> Post:
    post = repository.post_in_workspace(session, principal.workspace_id, post_id)
    if post is None:
        raise NotFound("No such post in this workspace.")
    return post


def _connections(
    session: Session, principal: Principal, post: Post, connection_ids: Sequence[uuid.UUID] | None
) -> list[Connection]:
    if connection_ids:
        rows = repository.connections_in_workspace(session, principal.workspace_id, connection_ids)
        found = {c.id for c in rows}
        missing = [str(c) for c in connection_ids if c not in found]
        if missing:
            raise NotFound(f"No such connection in this workspace: {', '.join(missing)}.")
        for connection in rows:
            if connection.persona_id != post.persona_id:
                raise ValidationFailed(
                    f"Connection {connection.id} belongs to another persona than this post."
                )
            if connection.platform not in post.platforms:
                raise ValidationFailed(
                    f"This post has no {connection.platform} variant: add {connection.platform} "
                    "to its platforms first."
                )
        return rows
    rows = repository.usable_connections(session, post.persona_id, post.platforms)
    if not rows:
        raise Conflict(
            "The persona has no active connection for this post's platforms "
            f"({', '.join(post.platforms)}): connect an account first."
        )
    return rows


def _parse_at(at: datetime, now: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValidationFailed(
            "The time has no UTC offset: write it like 2026-11-24T06:30:00+01:00 or ...Z.",
            errors=[{"field": "at", "message": "add a UTC offset"}],
        )
    at = ensure_utc(at)
    if at < now - PAST_TOLERANCE:
        raise ValidationFailed(
            f"{at.isoformat()} is in the past: pick a future time, or leave 'at' out to take "
            "the next free slot.",
            errors=[{"field": "at", "message": "in the past"}],
        )
    return at


def _taken(session: Session, connection: Connection, capacity: int) -> Any:
    counts = repository.slot_use(
        session, connection.id, [*list(ACTIVE_STATES), PublicationState.published.value]
    )
    return lambda slot: counts.get(slot, 0) >= capacity


def schedule(
    session: Session,
    principal: Principal,
    settings: Settings,
    post_id: uuid.UUID,
    *,
    at: datetime | None = None,
    connection_ids: Sequence[uuid.UUID] | None = None,
    priority: int | None = None,
    now: datetime | None = None,
) -> list[Publication]:
    """Create one publication per connection at ``at`` or at each connection's next free slot."""
    principal.require(Permission.publish)
    now = now or utcnow()
    post = _post(session, principal, post_id)
    if post.status != PostStatus.approved.value:
        raise Conflict(
            f"Only approved posts can be scheduled; this post is {post.status}.",
            extra={"current_status": post.status},
        )
    persona = repository.persona_by_id(session, post.persona_id)
    assert persona is not None
    explicit = _parse_at(at, now) if at is not None else None
    connections = _connections(session, principal, post, connection_ids)
    rng = random.Random(f"{post.id}")
    created = []
    for connection in connections:
        if explicit is not None:
            slot_at, scheduled_at = None, explicit
        else:
            slot_at = next_free_slot(
                persona.slots,
                persona.timezone,
                now,
                _taken(session, connection, settings.slot_capacity),
            )
            scheduled_at = apply_jitter(slot_at, persona.jitter_minutes, rng)
        publication = Publication(
            workspace_id=post.workspace_id,
            post_id=post.id,
            connection_id=connection.id,
            platform=connection.platform,
            scheduled_at=scheduled_at,
            slot_at=slot_at,
            next_attempt_at=scheduled_at,
            priority=post.priority if priority is None else priority,
            idempotency_key=uuid.uuid4().hex,
            state=PublicationState.scheduled.value,
        )
        session.add(publication)
        created.append(publication)
    if priority is not None:
        post.priority = priority
    session.flush()
    sync_post_status(session, post)
    audit.record(
        session,
        workspace_id=post.workspace_id,
        action="post.scheduled",
        object_type="post",
        object_id=post.id,
        actor_user_id=principal.user_id,
        actor_token_id=principal.token_id,
        data={
            "publications": [
                {"connection_id": str(p.connection_id), "at": p.scheduled_at.isoformat()}
                for p in created
            ],
            "unconnected_targets": unconnected_targets(session, post),
        },
    )
    session.info.setdefault("after_commit", []).append(signals.wake)
    return created


MAX_FREE_SLOTS = 20


@dataclass(frozen=True)
class FreeSlots:
    """The next free posting slots of one of a persona's active connections."""

    connection: Connection
    slots: list[datetime]


def free_slots(
    session: Session,
    principal: Principal,
    settings: Settings,
    persona_id: uuid.UUID,
    *,
    count: int = 5,
    now: datetime | None = None,
) -> list[FreeSlots]:
    """The next ``count`` free slots of each active connection of a persona (before jitter).

    The slots "add to queue" would take, in order: what ``schedule`` without a time picks for
    the next ``count`` posts.
    """
    if not 1 <= count <= MAX_FREE_SLOTS:
        raise ValidationFailed(f"'count' must be between 1 and {MAX_FREE_SLOTS}.")
    persona = repository.persona_by_id(session, persona_id)
    if persona is None or persona.workspace_id != principal.workspace_id:
        raise NotFound("No such persona in this workspace.")
    now = now or utcnow()
    connections = repository.all_usable_connections(session, persona.id)
    result = []
    for connection in connections:
        is_taken = _taken(session, connection, settings.slot_capacity)
        picked: list[datetime] = []
        after = now
        for _ in range(count):
            slot = next_free_slot(persona.slots, persona.timezone, after, is_taken)
            picked.append(slot)
            after = slot
        result.append(FreeSlots(connection=connection, slots=picked))
    return result


@dataclass(frozen=True)
class TargetState:
    """Where one of a post's target platforms stands: a publication's state, or why none."""

    platform: str
    state: str  # a publication state, "not_connected" or "not_scheduled"
    publication: Publication | None = None


def unconnected_targets(session: Session, post: Post) -> list[str]:
    """The post's platforms with no active connection and no publication: publishing skips them."""
    return [t.platform for t in target_states(session, post) if t.state == "not_connected"]


def target_states(session: Session, post: Post) -> list[TargetState]:
    """One line per target platform of the post, for its page and the schedule answer."""
    pubs = publications_of(session, post)
    connected = repository.usable_platforms(session, post.persona_id)
    out = []
    for platform in post.platforms:
        mine = [p for p in pubs if p.platform == platform]
        live = [p for p in mine if p.state != PublicationState.cancelled.value] or mine
        if live:
            out.append(TargetState(platform, live[-1].state, live[-1]))
        elif platform not in connected or post.status in _SENT:
            out.append(TargetState(platform, "not_connected"))
        else:
            out.append(TargetState(platform, "not_scheduled"))
    return out


_SENT = (PostStatus.scheduled.value, PostStatus.published.value, PostStatus.failed.value)


def publications_of(session: Session, post: Post) -> list[Publication]:
    return repository.publications_of_post(session, post.id)


def reschedule(
    session: Session,
    principal: Principal,
    settings: Settings,
    post_id: uuid.UUID,
    *,
    at: datetime,
    now: datetime | None = None,
) -> list[Publication]:
    """Move every not-yet-sent publication of a post to a new time (same validation)."""
    principal.require(Permission.publish)
    now = now or utcnow()
    post = _post(session, principal, post_id)
    when = _parse_at(at, now)
    pubs = publications_of(session, post)
    busy = [
        p
        for p in pubs
        if p.state in (PublicationState.claimed.value, PublicationState.sending.value)
    ]
    if busy:
        raise Conflict("This post is being published right now; it can no longer be moved.")
    movable = [p for p in pubs if p.state in MOVABLE]
    if not movable:
        raise Conflict(
            f"This post has nothing scheduled to move (it is {post.status}).",
            extra={"current_status": post.status},
        )
    for pub in movable:
        pub.scheduled_at = when
        pub.next_attempt_at = when
        pub.slot_at = None
    session.flush()
    audit.record(
        session,
        workspace_id=post.workspace_id,
        action="post.rescheduled",
        object_type="post",
        object_id=post.id,
        actor_user_id=principal.user_id,
        actor_token_id=principal.token_id,
        data={"at": when.isoformat()},
    )
    session.info.setdefault("after_commit", []).append(signals.wake)
    return pubs


def unschedule(
    session: Session, principal: Principal, post_id: uuid.UUID, *, cancel_post: bool = False
) -> list[Publication]:
    """Cancel not-yet-sent publications; the post goes back to approved (or to cancelled)."""
    principal.require(Permission.publish)
    post = _post(session, principal, post_id)
    pubs = publications_of(session, post)
    if any(
        p.state in (PublicationState.claimed.value, PublicationState.sending.value) for p in pubs
    ):
        raise Conflict("This post is being published right now; it can no longer be stopped.")
    for pub in pubs:
        if pub.state in (*MOVABLE, PublicationState.unknown.value):
            pub.state = PublicationState.cancelled.value
            pub.lease_owner = pub.lease_expires_at = None
    session.flush()
    sync_post_status(session, post)
    if cancel_post and post.status in (
        PostStatus.approved.value,
        PostStatus.in_review.value,
        PostStatus.draft.value,
    ):
        post.status = PostStatus.cancelled.value
        post.version += 1
    audit.record(
        session,
        workspace_id=post.workspace_id,
        action="post.cancelled" if cancel_post else "post.unscheduled",
        object_type="post",
        object_id=post.id,
        actor_user_id=principal.user_id,
        actor_token_id=principal.token_id,
    )
    return pubs


def retry(session: Session, principal: Principal, publication_id: uuid.UUID) -> Publication:
    """Send a failed, missed or held publication again now."""
    principal.require(Permission.publish)
    pub = repository.publication_in_workspace(session, principal.workspace_id, publication_id)
    if pub is None:
        raise NotFound("No such publication in this workspace.")
    if pub.state not in (
        PublicationState.failed.value,
        PublicationState.missed.value,
        PublicationState.held.value,
    ):
        raise Conflict(
            f"Only failed, missed or held publications can be retried; this one is {pub.state}."
        )
    now = utcnow()
    pub.state = PublicationState.scheduled.value
    pub.next_attempt_at = now
    pub.scheduled_at = now
    pub.attempts = 0
    post = repository.post_by_id(session, pub.post_id)
    assert post is not None
    session.flush()
    sync_post_status(session, post)
    session.info.setdefault("after_commit", []).append(signals.wake)
    return pub


def post_by_id(session: Session, post_id: uuid.UUID) -> Post:
    """A post already checked to be in the caller's workspace (after scheduling it)."""
    post = repository.post_by_id(session, post_id)
    assert post is not None
    return post


def recent_problems(session: Session, workspace_id: uuid.UUID) -> list[Publication]:
    """The workspace's latest failed, missed, held or unknown publications (the Jobs page)."""
    return repository.recent_problems(session, workspace_id)
