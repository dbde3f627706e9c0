"""A post's status, derived from the states of its publications."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from digipersona.models import Post, PostStatus
from digipersona.publishing import repository

_SETTLED = {"published", "failed", "missed", "cancelled"}


def status_for(states: list[str]) -> PostStatus | None:
    """A post's status given its publications' states (None without publications)."""
    if not states:
        return None
    if any(s not in _SETTLED for s in states):
        return PostStatus.scheduled
    if all(s == "cancelled" for s in states):
        return PostStatus.approved
    if any(s == "published" for s in states):
        return PostStatus.published
    if any(s == "failed" for s in states):
        return PostStatus.failed
    if any(s == "missed" for s in states):
        return PostStatus.missed
    return PostStatus.cancelled


def sync_post_status(session: Session, post: Post) -> None:
    """Derive the post's status from its publications, on the ORM object the caller holds
    (services read it afterwards; flush first)."""
    states = [row.state for row in repository.publication_states(session, [post.id])]
    new = status_for(states)
    if new is not None and post.status != new.value:
        post.status = new.value
        post.version += 1


def sync_post_statuses(session: Session, post_ids: set[uuid.UUID], now: datetime) -> set[uuid.UUID]:
    """``sync_post_status`` for many posts without ORM objects (the engine's hot path): one
    read, one UPDATE per new status. Returns the ids of the posts' publications (to tell which
    still exist)."""
    states: dict[uuid.UUID, list[str]] = {}
    current: dict[uuid.UUID, str] = {}
    present: set[uuid.UUID] = set()
    for row in repository.publication_states(session, post_ids):
        present.add(row.id)
        states.setdefault(row.post_id, []).append(row.state)
        current[row.post_id] = row.status
    changes: dict[str, list[uuid.UUID]] = {}
    for post_id, post_states in states.items():
        new = status_for(post_states)
        if new is not None and new.value != current[post_id]:
            changes.setdefault(new.value, []).append(post_id)
    for status, ids in changes.items():
        repository.set_post_status(session, ids, status, now)
    return present
