"""What the dashboard shows, read with small indexed queries whose cost does not grow with history.

Each list is a handful of rows read in index order: the newest posts in review from
``ix_posts_workspace_status_created``; the next scheduled and the latest finished publications as
one short ordered range per state (``ix_publications_workspace_state_scheduled`` /
``..._state_updated``), merged here. The in-review count stops at ``COUNT_CAP``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from digipersona.publishing import repository
from digipersona.publishing.calendar import title_of

IN_REVIEW = 5
LATEST = 8
COUNT_CAP = 999
UPCOMING_STATES = ("scheduled", "held")
FINISHED_STATES = ("published", "failed", "missed")
_HEAD = 400


@dataclass(frozen=True, slots=True)
class ReviewItem:
    post_id: uuid.UUID
    title: str
    persona_name: str


@dataclass(frozen=True, slots=True)
class PublicationItem:
    id: uuid.UUID
    post_id: uuid.UUID
    platform: str
    state: str
    scheduled_at: datetime
    updated_at: datetime
    title: str
    external_url: str | None
    last_error: str | None
    timezone: str = "UTC"  # the persona's, for showing its times


@dataclass(frozen=True, slots=True)
class Summary:
    persona_count: int
    in_review: list[ReviewItem]
    review_total: int
    review_total_capped: bool
    upcoming: list[PublicationItem]
    recent: list[PublicationItem]


def _items(rows: Iterable[Any]) -> list[PublicationItem]:
    return [
        PublicationItem(
            id=r.id,
            post_id=r.post_id,
            platform=r.platform,
            state=r.state,
            scheduled_at=r.scheduled_at,
            updated_at=r.updated_at,
            title=title_of(r.body_head or ""),
            external_url=r.external_url,
            last_error=r.last_error,
            timezone=r.timezone,
        )
        for r in rows
    ]


def summary(session: Session, workspace_id: uuid.UUID, now: datetime) -> Summary:
    """The content tab: persona count, newest posts in review, next and latest publications."""
    persona_count = repository.persona_count(session, workspace_id)
    in_review = [
        ReviewItem(r.id, title_of(r.body_head or ""), r.persona_name)
        for r in repository.newest_in_review(session, workspace_id, IN_REVIEW, _HEAD)
    ]
    review_total = repository.in_review_count(session, workspace_id, COUNT_CAP + 1)
    upcoming = _items(
        repository.publication_heads(
            session, workspace_id, UPCOMING_STATES, now, upcoming=True, limit=LATEST, head=_HEAD
        )
    )
    recent = _items(
        repository.publication_heads(
            session, workspace_id, FINISHED_STATES, now, upcoming=False, limit=LATEST, head=_HEAD
        )
    )
    upcoming.sort(key=lambda p: (p.scheduled_at, p.id))
    recent.sort(key=lambda p: (p.updated_at, p.id), reverse=True)
    return Summary(
        persona_count=persona_count,
        in_review=in_review,
        review_total=min(review_total, COUNT_CAP),
        review_total_capped=review_total > COUNT_CAP,
        upcoming=upcoming[:LATEST],
        recent=recent[:LATEST],
    )
