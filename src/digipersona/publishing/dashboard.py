"""What the dashboard shows, read with small indexed queries whose cost does not grow with history.

Each list is a handful of rows read in index order: the newest posts in review from
``ix_posts_workspace_status_created``; the next scheduled and the latest finished publications as
one short ordered range per state (``ix_publications_workspace_state_scheduled`` /
``..._state_updated``), merged here. The in-review count stops at ``COUNT_CAP``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select, union_all
from sqlalchemy.orm import Session

from digipersona.models import Persona, Post, Publication
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


def _per_state(
    workspace_id: uuid.UUID, states: tuple[str, ...], upcoming: bool, now: datetime
) -> Select[tuple[object, ...]]:
    """The first LATEST rows of each state, each read in index order (no sort), as one query."""
    members = []
    for state in states:
        stmt = (
            select(
                Publication.id,
                Publication.post_id,
                Publication.platform,
                Publication.state,
                Publication.scheduled_at,
                Publication.updated_at,
                Publication.external_url,
                func.substr(Publication.last_error, 1, 300).label("last_error"),
                func.substr(Post.body, 1, _HEAD).label("body_head"),
                Persona.timezone,
            )
            .join(Post, Post.id == Publication.post_id)
            .join(Persona, Persona.id == Post.persona_id)
            .where(Publication.workspace_id == workspace_id, Publication.state == state)
        )
        if upcoming:
            stmt = stmt.where(Publication.scheduled_at >= now).order_by(Publication.scheduled_at)
        else:
            stmt = stmt.order_by(Publication.updated_at.desc())
        sub = stmt.limit(LATEST).subquery()
        # SQLite takes ORDER BY/LIMIT in a compound member only inside a subquery.
        members.append(select(*sub.c))
    return union_all(*members)  # type: ignore[return-value]


def _items(session: Session, stmt: Select[tuple[object, ...]]) -> list[PublicationItem]:
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
        for r in session.execute(stmt)
    ]


def summary(session: Session, workspace_id: uuid.UUID, now: datetime) -> Summary:
    """The content tab: persona count, newest posts in review, next and latest publications."""
    persona_count = session.scalar(
        select(func.count()).select_from(Persona).where(Persona.workspace_id == workspace_id)
    )
    review = Post.workspace_id == workspace_id, Post.status == "in_review"
    in_review = [
        ReviewItem(r.id, title_of(r.body_head or ""), r.persona_name)
        for r in session.execute(
            select(
                Post.id,
                func.substr(Post.body, 1, _HEAD).label("body_head"),
                Persona.name.label("persona_name"),
            )
            .join(Persona, Persona.id == Post.persona_id)
            .where(*review)
            .order_by(Post.created_at.desc(), Post.id.desc())
            .limit(IN_REVIEW)
        )
    ]
    capped = select(Post.id).where(*review).limit(COUNT_CAP + 1).subquery()
    review_total = int(session.scalar(select(func.count()).select_from(capped)) or 0)
    upcoming = _items(session, _per_state(workspace_id, UPCOMING_STATES, True, now))
    recent = _items(session, _per_state(workspace_id, FINISHED_STATES, False, now))
    upcoming.sort(key=lambda p: (p.scheduled_at, p.id))
    recent.sort(key=lambda p: (p.updated_at, p.id), reverse=True)
    return Summary(
        persona_count=int(persona_count or 0),
        in_review=in_review,
        review_total=min(review_total, COUNT_CAP),
        review_total_capped=review_total > COUNT_CAP,
        upcoming=upcoming[:LATEST],
        recent=recent[:LATEST],
    )
