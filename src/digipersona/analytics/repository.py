"""All SQL of the analytics domain (CONVENTIONS.md rule 2)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, case, cast, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from digipersona.models import (
    AbTest,
    AnalyticsDay,
    Connection,
    Media,
    MetricSnapshot,
    MetricsSchedule,
    MetricsStop,
    Persona,
    Post,
    Publication,
    PublicationState,
    Variant,
)
from digipersona.publishing import summary
from digipersona.publishing.repository import READING_FIELDS as FIELDS
from digipersona.publishing.repository import latest_reading, source_rows

# The decaying schedule: readings this long after publication, then stop (issue 7).
OFFSETS: tuple[timedelta, ...] = (
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(hours=24),
    timedelta(days=3),
    timedelta(days=7),
)


def _insert(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def ensure_schedules(session: Session, now: datetime, limit: int = 500) -> int:
    """Give published publications without a schedule row one (first reading 1 h after).

    Safe with two schedulers: the insert skips rows another one created meanwhile.
    """
    rows = session.execute(
        select(
            Publication.id,
            Publication.workspace_id,
            Publication.connection_id,
            Publication.platform,
            Publication.external_id,
            Publication.published_at,
        )
        .outerjoin(MetricsSchedule, MetricsSchedule.publication_id == Publication.id)
        .where(
            Publication.state == PublicationState.published.value,
            MetricsSchedule.id.is_(None),
        )
        .limit(limit)
    ).all()
    values = []
    for row in rows:
        published_at = row.published_at or now
        value: dict[str, Any] = {
            "id": uuid.uuid4(),
            "workspace_id": row.workspace_id,
            "publication_id": row.id,
            "connection_id": row.connection_id,
            "platform": row.platform,
            "published_at": published_at,
            "stage": 0,
            "next_sync_at": published_at + OFFSETS[0],
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        if not row.external_id:
            value.update(
                next_sync_at=None,
                stopped_reason=MetricsStop.no_external_id.value,
                stopped_note="The platform gave no id for this post, so nothing can be read.",
                stopped_at=now,
            )
        values.append(value)
    if not values:
        return 0
    stmt = _insert(session)(MetricsSchedule).values(values)
    inserted = session.execute(
        stmt.on_conflict_do_nothing(index_elements=["publication_id"]).returning(MetricsSchedule.id)
    ).all()
    return len(inserted)


@dataclass(frozen=True)
class Claimed:
    """A schedule row leased to one sync run, with what the provider call needs."""

    schedule_id: uuid.UUID
    publication_id: uuid.UUID
    workspace_id: uuid.UUID
    connection_id: uuid.UUID
    platform: str
    external_id: str
    stage: int
    published_at: datetime
    attempts: int
    # The lease this run holds; a row whose lease changed belongs to another run now.
    lease_until: datetime


def claim_due(session: Session, now: datetime, lease_until: datetime, limit: int) -> list[Claimed]:
    """Lease due schedule rows with one conditional UPDATE; no other run can get them."""
    due = (
        select(MetricsSchedule.id)
        .where(
            MetricsSchedule.stopped_reason.is_(None),
            MetricsSchedule.next_sync_at <= now,
        )
        .order_by(MetricsSchedule.next_sync_at, MetricsSchedule.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = session.execute(
        update(MetricsSchedule)
        .where(
            MetricsSchedule.id.in_(due.scalar_subquery()),
            MetricsSchedule.stopped_reason.is_(None),
            MetricsSchedule.next_sync_at <= now,
        )
        # Moving next_sync_at past the lease is the claim: a crashed run is retried after it.
        .values(next_sync_at=lease_until, lease_expires_at=lease_until)
        .returning(MetricsSchedule.id)
        .execution_options(synchronize_session=False)
    ).scalars()
    claimed_ids = list(ids)
    if not claimed_ids:
        return []
    rows = session.execute(
        select(MetricsSchedule, Publication.external_id)
        .join(Publication, Publication.id == MetricsSchedule.publication_id)
        .where(MetricsSchedule.id.in_(claimed_ids))
    ).all()
    return [
        Claimed(
            schedule_id=schedule.id,
            publication_id=schedule.publication_id,
            workspace_id=schedule.workspace_id,
            connection_id=schedule.connection_id,
            platform=schedule.platform,
            external_id=external_id or "",
            stage=schedule.stage,
            published_at=schedule.published_at,
            attempts=schedule.attempts,
            lease_until=lease_until,
        )
        for schedule, external_id in rows
    ]


def get_schedule(session: Session, schedule_id: uuid.UUID) -> MetricsSchedule | None:
    return session.get(MetricsSchedule, schedule_id)


def add_snapshot(session: Session, snapshot: MetricSnapshot) -> None:
    session.add(snapshot)


def schedules_for(session: Session, publication_ids: Sequence[uuid.UUID]) -> list[MetricsSchedule]:
    if not publication_ids:
        return []
    return list(
        session.scalars(
            select(MetricsSchedule).where(MetricsSchedule.publication_id.in_(publication_ids))
        )
    )


def snapshots_for(session: Session, publication_ids: Sequence[uuid.UUID]) -> list[MetricSnapshot]:
    if not publication_ids:
        return []
    return list(
        session.scalars(
            select(MetricSnapshot)
            .where(MetricSnapshot.publication_id.in_(publication_ids))
            .order_by(MetricSnapshot.publication_id, MetricSnapshot.taken_at)
        )
    )


def get_post(session: Session, workspace_id: uuid.UUID, post_id: uuid.UUID) -> Post | None:
    return session.scalars(
        select(Post).where(Post.id == post_id, Post.workspace_id == workspace_id)
    ).first()


def publications_of_post(session: Session, post: Post) -> list[Publication]:
    return list(
        session.scalars(
            select(Publication)
            .where(Publication.post_id == post.id, Publication.workspace_id == post.workspace_id)
            .order_by(Publication.created_at)
        )
    )


def _in_range(
    stmt: Any,
    latest: tuple[Any, Any],
    workspace_id: uuid.UUID,
    start: datetime,
    end: datetime,
    persona_id: uuid.UUID | None,
    platform: str | None,
) -> Any:
    reading, onclause = latest
    stmt = (
        stmt.join(Post, Post.id == Publication.post_id)
        .outerjoin(reading, onclause)
        .where(
            Publication.workspace_id == workspace_id,
            Publication.state == PublicationState.published.value,
            Publication.published_at >= start,
            Publication.published_at < end,
        )
    )
    if persona_id is not None:
        stmt = stmt.where(Post.persona_id == persona_id)
    if platform is not None:
        stmt = stmt.where(Publication.platform == platform)
    return stmt


def measured_rows(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    persona_id: uuid.UUID | None = None,
    platform: str | None = None,
    limit: int | None = None,
    with_text: bool = False,
) -> list[tuple[Any, ...]]:
    """Published publications in ``[start, end)``, oldest first (with ``limit``, the newest
    ``limit``), as plain tuples: (persona id as text, platform, published_at, measured,
    likes, reposts, replies, quotes, impressions) and, ``with_text``, (post id, body).

    Only these columns, found through ix_publications_workspace_state_published; ids stay text
    (building 4 UUID objects per row was most of the time at 7,500 rows).
    """
    latest = latest_reading(session)
    reading = latest[0]
    columns: list[Any] = [
        cast(Post.persona_id, String).label("persona"),
        Publication.platform,
        Publication.published_at,
        reading.c.id.is_not(None).label("measured"),
        *(reading.c[name] for name in FIELDS),
    ]
    if with_text:
        columns += [Publication.post_id, Post.body]
    stmt = _in_range(select(*columns), latest, workspace_id, start, end, persona_id, platform)
    if limit is None:
        stmt = stmt.order_by(Publication.published_at, Publication.id)
        return [tuple(row) for row in session.execute(stmt)]
    newest = stmt.order_by(Publication.published_at.desc(), Publication.id.desc()).limit(limit)
    return [tuple(row) for row in reversed(session.execute(newest).all())]


def persona_zones(session: Session, workspace_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """(persona id, time zone name) of every persona of the workspace."""
    rows = session.execute(
        select(Persona.id, Persona.timezone).where(Persona.workspace_id == workspace_id)
    )
    return [(row[0], row[1]) for row in rows]


def get_persona(session: Session, workspace_id: uuid.UUID, persona_id: uuid.UUID) -> Persona | None:
    return session.scalars(
        select(Persona).where(Persona.id == persona_id, Persona.workspace_id == workspace_id)
    ).first()


def summary_days(
    session: Session,
    workspace_id: uuid.UUID,
    first: date,
    last: date,
    *,
    persona_id: uuid.UUID | None,
    platform: str | None,
) -> list[dict[str, Any]]:
    """The daily summary rows of local days ``first`` to ``last``, as dicts of their columns."""
    stmt = select(AnalyticsDay.__table__).where(
        AnalyticsDay.workspace_id == workspace_id,
        AnalyticsDay.day >= first,
        AnalyticsDay.day <= last,
    )
    if persona_id is not None:
        stmt = stmt.where(AnalyticsDay.persona_id == persona_id)
    if platform is not None:
        stmt = stmt.where(AnalyticsDay.platform == platform)
    # Plain dicts: each name lookup on a SQLAlchemy row cost ~50 µs, 12 per row.
    result = session.execute(stmt)
    names = list(result.keys())
    return [dict(zip(names, row, strict=True)) for row in result]


def publications_between(
    session: Session,
    workspace_id: uuid.UUID,
    windows: Sequence[tuple[datetime, datetime]],
    *,
    persona_id: uuid.UUID | None,
    platform: str | None,
) -> list[Any]:
    """Published publications in ``windows`` with their latest reading, as the daily summary
    sums them (``publishing.repository.source_rows``): one query per window, each one index range of
    ix_publications_workspace_state_published (an OR of ranges would read the whole index)."""
    conditions: list[Any] = [Publication.workspace_id == workspace_id]
    if persona_id is not None:
        conditions.append(Post.persona_id == persona_id)
    if platform is not None:
        conditions.append(Publication.platform == platform)
    rows: list[Any] = []
    for start, end in windows:
        rows += source_rows(
            session, *conditions, Publication.published_at >= start, Publication.published_at < end
        )
    return rows


def rebuild_summary(session: Session, workspace_id: uuid.UUID, persona_id: uuid.UUID) -> None:
    """Sum a persona's days again (its time zone changed)."""
    summary.rebuild(session, workspace_id, persona_id)


def publications_by_id(
    session: Session, workspace_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> list[Any]:
    """These publications with their post's persona and text and their latest impressions.

    The impressions come from a scalar subquery per row (one seek in
    ix_metric_snapshots_publication_taken each): joining the latest reading by an ON clause
    made SQLite scan the whole metrics history for a handful of ids (0.45 s at 425,000
    readings)."""
    impressions = (
        select(MetricSnapshot.impressions)
        .where(MetricSnapshot.publication_id == Publication.id)
        .order_by(MetricSnapshot.taken_at.desc(), MetricSnapshot.id.desc())
        .limit(1)
        .correlate(Publication)
        .scalar_subquery()
    )
    stmt = (
        select(
            Publication.id,
            Publication.post_id,
            Post.persona_id,
            Post.body,
            Publication.platform,
            Publication.published_at,
            Publication.external_url,
            Publication.workspace_id,
            impressions.label("impressions"),
        )
        .join(Post, Post.id == Publication.post_id)
        .where(Publication.id.in_(list(ids)))
    )
    # The workspace is checked on the rows: a condition on it in SQL made SQLite walk the
    # workspace's publications by its index instead of a few primary-key seeks.
    return [row for row in session.execute(stmt) if row.workspace_id == workspace_id]


def media_post_ids(session: Session, post_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these posts carry at least one image."""
    if not post_ids:
        return set()
    return set(session.scalars(select(Media.post_id).where(Media.post_id.in_(post_ids)).distinct()))


def variant_parts(
    session: Session, post_ids: Sequence[uuid.UUID]
) -> dict[tuple[uuid.UUID, str], int]:
    """Number of thread parts per (post, platform)."""
    if not post_ids:
        return {}
    rows = session.execute(
        select(Variant.post_id, Variant.platform, Variant.parts).where(
            Variant.post_id.in_(post_ids)
        )
    )
    return {(r.post_id, r.platform): max(1, len(r.parts or [])) for r in rows}


def first_scheduled_at(session: Session, post_id: uuid.UUID) -> datetime | None:
    """When the post's earliest publication is (or was) scheduled."""
    return session.scalar(
        select(func.min(Publication.scheduled_at)).where(Publication.post_id == post_id)
    )


def posts_by_id(
    session: Session, workspace_id: uuid.UUID, post_ids: Sequence[uuid.UUID]
) -> list[Post]:
    return list(
        session.scalars(
            select(Post).where(Post.workspace_id == workspace_id, Post.id.in_(post_ids))
        )
    )


def add_ab_test(session: Session, test: AbTest) -> AbTest:
    session.add(test)
    session.flush()
    return test


def get_ab_test(session: Session, workspace_id: uuid.UUID, test_id: uuid.UUID) -> AbTest | None:
    return session.scalars(
        select(AbTest).where(AbTest.id == test_id, AbTest.workspace_id == workspace_id)
    ).first()


def list_ab_tests(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    persona_id: uuid.UUID | None = None,
    post_id: uuid.UUID | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int | None = None,
) -> list[AbTest]:
    """The workspace's A/B tests, newest first (then by id), filtered, from after a key."""
    stmt = select(AbTest).where(AbTest.workspace_id == workspace_id)
    if persona_id is not None:
        stmt = stmt.where(AbTest.persona_id == persona_id)
    if post_id is not None:
        stmt = stmt.where(or_(AbTest.post_a_id == post_id, AbTest.post_b_id == post_id))
    if after is not None:
        at, id_ = after
        stmt = stmt.where(
            or_(AbTest.created_at < at, and_(AbTest.created_at == at, AbTest.id < id_))
        )
    stmt = stmt.order_by(AbTest.created_at.desc(), AbTest.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def reserve_spend(session: Session, connection_id: uuid.UUID, cost: float, month: str) -> bool:
    """Add ``cost`` to the connection's monthly spend unless it would exceed its budget.

    One conditional UPDATE, so concurrent publishing and syncing cannot overspend together.
    """
    spent = case((Connection.spend_month == month, Connection.spend_usd), else_=0)
    result = session.execute(
        update(Connection)
        .where(
            Connection.id == connection_id,
            or_(
                Connection.monthly_budget_usd.is_(None),
                spent + cost <= Connection.monthly_budget_usd + 1e-9,
            ),
        )
        .values(spend_usd=spent + cost, spend_month=month)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# -- engagement spikes (the autopilot's engagement trigger) -----------------------------------
@dataclass(frozen=True)
class PostOfPublication:
    post_id: uuid.UUID
    persona_id: uuid.UUID
    body: str
    url: str | None
    spiked: bool


def post_of_publication(session: Session, publication_id: uuid.UUID) -> PostOfPublication | None:
    row = session.execute(
        select(
            Post.id, Post.persona_id, Post.body, Publication.external_url, Post.engagement_spike_at
        )
        .join(Publication, Publication.post_id == Post.id)
        .where(Publication.id == publication_id)
    ).first()
    if row is None:
        return None
    return PostOfPublication(
        row.id, row.persona_id, row.body, row.external_url, row.engagement_spike_at is not None
    )


def stage_engagements(
    session: Session,
    *,
    persona_id: uuid.UUID,
    platform: str,
    stage: int,
    exclude_publication_id: uuid.UUID,
    limit: int = 200,
) -> list[int]:
    """Engagement (likes + reposts + replies + quotes) of the persona's other publications on
    ``platform`` at sync ``stage``: the latest reading of each, most recent ``limit`` ones.
    Readings without any of those figures are left out (the platform gave none)."""
    engagement = (
        func.coalesce(MetricSnapshot.likes, 0)
        + func.coalesce(MetricSnapshot.reposts, 0)
        + func.coalesce(MetricSnapshot.replies, 0)
        + func.coalesce(MetricSnapshot.quotes, 0)
    )
    rows = session.execute(
        select(MetricSnapshot.publication_id, engagement.label("engagement"))
        .join(Publication, Publication.id == MetricSnapshot.publication_id)
        .join(Post, Post.id == Publication.post_id)
        .where(
            Post.persona_id == persona_id,
            Publication.platform == platform,
            MetricSnapshot.stage == stage,
            MetricSnapshot.publication_id != exclude_publication_id,
            or_(
                MetricSnapshot.likes.is_not(None),
                MetricSnapshot.reposts.is_not(None),
                MetricSnapshot.replies.is_not(None),
                MetricSnapshot.quotes.is_not(None),
            ),
        )
        .order_by(MetricSnapshot.taken_at.desc(), MetricSnapshot.id)
        .limit(limit * 3)
    ).all()
    latest: dict[uuid.UUID, int] = {}
    for row in rows:
        if row.publication_id not in latest:
            latest[row.publication_id] = int(row.engagement)
    return list(latest.values())[:limit]


def claim_engagement_spike(session: Session, post_id: uuid.UUID, now: datetime) -> bool:
    """Mark the post's engagement spike, once: True only for the caller that set it."""
    result = session.execute(
        update(Post)
        .where(Post.id == post_id, Post.engagement_spike_at.is_(None))
        .values(engagement_spike_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)
