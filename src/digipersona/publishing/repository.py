"""The publishing engine's SQL: claiming, preparing, recording and housekeeping statements.

The hot-path statements are built once (per dialect) with bound parameters: building and
cache-keying a statement per batch costs more than executing it. Every function takes the
caller's session; the caller (``write_scope``) owns the transaction.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Row,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from digipersona.kit.time import ensure_utc
from digipersona.models import (
    AnalyticsDay,
    Connection,
    ConnectionState,
    Heartbeat,
    Interaction,
    Media,
    MetricSnapshot,
    Persona,
    Post,
    Publication,
    PublicationState,
    Variant,
)

CLAIMABLE = (PublicationState.scheduled.value, PublicationState.unknown.value)
# The figures of a metrics reading, in the order the daily summary reads them.
READING_FIELDS = ("likes", "reposts", "replies", "quotes", "impressions")


def _table(model: Any) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _typed(name: str, column: Any) -> Any:
    return bindparam(name, type_=column.type)


# -- claiming ----------------------------------------------------------------------------------
@functools.cache
def claim_statements(dialect: str) -> tuple[Any, Any]:
    """(pick the due ids in order, lease exactly those): two steps in one transaction.

    One UPDATE ... WHERE id IN (subquery) makes SQLite walk every claimable row for the outer
    UPDATE, which costs as much as the whole batch when thousands are due at once.
    """
    table = _table(Publication)
    due = (
        select(table.c.id)
        .where(table.c.state.in_(CLAIMABLE), table.c.next_attempt_at <= bindparam("now"))
        .order_by(table.c.priority.desc(), table.c.next_attempt_at, table.c.id)
        .limit(bindparam("limit"))
    )
    if dialect == "postgresql":
        due = due.with_for_update(skip_locked=True)  # the rows stay locked until commit
    lease = (
        update(table)
        .where(table.c.id.in_(bindparam("ids", expanding=True)), table.c.state.in_(CLAIMABLE))
        .values(
            state=PublicationState.claimed.value,
            lease_owner=bindparam("owner"),
            lease_expires_at=_typed("lease", table.c.lease_expires_at),
        )
        .returning(table.c.id)
    )
    return due, lease


def lease_due(
    session: Session, owner: str, limit: int, now: datetime, lease_until: datetime
) -> list[uuid.UUID]:
    """Lease up to ``limit`` due publications to ``owner``, in priority then time order."""
    due, lease = claim_statements(session.get_bind().dialect.name)
    ids = list(session.scalars(due, {"now": now, "limit": limit}))
    if not ids:
        return []
    leased = set(session.scalars(lease, {"ids": ids, "owner": owner, "lease": lease_until}))
    return [pid for pid in ids if pid in leased]


def release_expired(session: Session, now: datetime) -> tuple[int, int]:
    """Expired leases: unsent rows back to the queue, in-flight ones to reconciliation."""
    requeued = session.execute(
        update(Publication)
        .where(
            Publication.state == PublicationState.claimed.value,
            Publication.lease_expires_at < now,
        )
        .values(
            state=case(
                (Publication.reconcile.is_(True), PublicationState.unknown.value),
                else_=PublicationState.scheduled.value,
            ),
            lease_owner=None,
            lease_expires_at=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    lost = session.execute(
        update(Publication)
        .where(
            Publication.state == PublicationState.sending.value,
            Publication.lease_expires_at < now,
        )
        .values(
            state=PublicationState.unknown.value,
            reconcile=True,
            lease_owner=None,
            lease_expires_at=None,
            next_attempt_at=now,
            last_error="The worker stopped while sending; checking the platform first.",
        )
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return int(requeued or 0), int(lost or 0)


def next_due_at(session: Session) -> datetime | None:
    """When the next claimable publication is due."""
    value = session.scalar(
        select(func.min(Publication.next_attempt_at)).where(Publication.state.in_(CLAIMABLE))
    )
    return ensure_utc(value) if value else None


# -- housekeeping ------------------------------------------------------------------------------
def pauses_ended(session: Session, now: datetime) -> Iterable[Connection]:
    """Paused connections whose pause ended by ``now``."""
    return session.scalars(
        select(Connection).where(
            Connection.state == ConnectionState.paused.value,
            Connection.paused_until.is_not(None),
            Connection.paused_until <= now,
        )
    )


def forget_heartbeats(session: Session, before: datetime) -> int:
    """Delete heartbeats older than ``before``; how many."""
    result = session.execute(delete(Heartbeat).where(Heartbeat.beat_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


def beat(session: Session, name: str, kind: str, now: datetime) -> None:
    """Record that a scheduler or worker is alive."""
    row = session.get(Heartbeat, name)
    if row is None:
        session.add(Heartbeat(name=name, kind=kind, beat_at=now))
    else:
        row.beat_at = now


# -- preparing ---------------------------------------------------------------------------------
# Columns a batch is prepared from, as one Core row per publication (no ORM objects on the hot
# path). Need another field in the publish request? Add its column here.
def _prep_columns() -> tuple[Any, ...]:
    return (
        Publication.id,
        Publication.workspace_id,
        Publication.post_id,
        Publication.connection_id,
        Publication.platform,
        Publication.scheduled_at,
        Publication.created_at,
        Publication.idempotency_key,
        Publication.reconcile,
        Publication.parts_published,
        Post.body,
        Post.link_url,
        Post.tags,
        Persona.id.label("persona_id"),
        Persona.name.label("persona_name"),
        Persona.language,
        Persona.max_lateness_minutes,
        Connection.state.label("connection_state"),
        Connection.paused_until,
        Variant.parts.label("variant_parts"),
        select(Media.id).where(Media.post_id == Post.id).exists().label("has_media"),
        _reply_target_column(),
    )


def _reply_target_column() -> Any:
    """A correlated column (per ``Post``) with the stored reply target of the answered item."""
    return (
        select(Interaction.reply_target)
        .where(Interaction.reply_post_id == Post.id)
        .limit(1)
        .scalar_subquery()
        .label("reply_target")
    )


@functools.cache
def prepare_statement(dialect: str, claim: bool) -> Any:
    """The rows to prepare: picked by the claim's own subquery (``claim``) or the ids ``owner``
    holds claimed."""
    stmt = (
        select(*_prep_columns())
        .join(Connection, Connection.id == Publication.connection_id)
        .join(Post, Post.id == Publication.post_id)
        .join(Persona, Persona.id == Post.persona_id)
        .outerjoin(
            Variant,
            (Variant.post_id == Publication.post_id) & (Variant.platform == Publication.platform),
        )
    )
    if claim:
        # The subquery's own conditions are the claim's (on PostgreSQL re-checked on the locked
        # row); repeating ``state`` outside would make SQLite scan the state index for the
        # outer rows instead of looking the picked ids up by primary key.
        due, _lease = claim_statements(dialect)
        stmt = stmt.where(Publication.id.in_(due)).order_by(
            Publication.priority.desc(), Publication.next_attempt_at, Publication.id
        )
    else:
        stmt = stmt.where(
            Publication.id.in_(bindparam("ids", expanding=True)),
            Publication.state == PublicationState.claimed.value,
            Publication.lease_owner == bindparam("owner"),
        )
    if dialect == "postgresql":
        stmt = stmt.with_for_update(of=Publication)
    return stmt


def due_rows(session: Session, now: datetime, limit: int) -> list[Row[Any]]:
    """Up to ``limit`` due rows to prepare, picked (on PostgreSQL locked, skipping rows another
    scheduler holds) by the same statement; priority then time order."""
    stmt = prepare_statement(session.get_bind().dialect.name, True)
    return list(session.execute(stmt, {"now": now, "limit": limit}))


def claimed_rows(session: Session, ids: list[uuid.UUID], owner: str) -> list[Row[Any]]:
    """The rows of ``ids`` that ``owner`` holds claimed, in the order of ``ids``."""
    stmt = prepare_statement(session.get_bind().dialect.name, False)
    by_id = {row.id: row for row in session.execute(stmt, {"ids": ids, "owner": owner})}
    return [by_id[pid] for pid in dict.fromkeys(ids) if pid in by_id]


def for_admission(
    session: Session, ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[Publication, Connection, Post, Persona]]:
    """The ORM objects of publications that must be settled (missed, held, budget)."""
    rows = session.execute(
        select(Publication, Connection, Post, Persona)
        .join(Connection, Connection.id == Publication.connection_id)
        .join(Post, Post.id == Publication.post_id)
        .join(Persona, Persona.id == Post.persona_id)
        .where(Publication.id.in_(ids))
    ).all()
    return {pub.id: (pub, connection, post, persona) for pub, connection, post, persona in rows}


@functools.cache
def _sending_statement() -> Any:
    table = _table(Publication)
    return (
        update(table)
        .where(table.c.id.in_(bindparam("ids", expanding=True)))
        .values(
            state=PublicationState.sending.value,
            attempts=table.c.attempts + 1,
            sent_at=_typed("now", table.c.sent_at),
            lease_owner=bindparam("owner"),
            lease_expires_at=_typed("lease", table.c.lease_expires_at),
            updated_at=_typed("now", table.c.updated_at),
        )
    )


def mark_sending(
    session: Session, ids: list[uuid.UUID], owner: str, now: datetime, lease_until: datetime
) -> None:
    """Move ``ids`` to ``sending`` under ``owner``'s lease (one more attempt each)."""
    session.execute(
        _sending_statement(), {"ids": ids, "now": now, "lease": lease_until, "owner": owner}
    )


def defer(
    session: Session, publication_id: uuid.UUID, until: datetime, reason: str, now: datetime
) -> None:
    """Put a claimed publication back in the queue until ``until`` (a quota window's end)."""
    table = _table(Publication)
    session.execute(
        update(table)
        .where(table.c.id == publication_id)
        .values(
            state=PublicationState.scheduled.value,
            next_attempt_at=until,
            lease_owner=None,
            lease_expires_at=None,
            last_error=reason,
            updated_at=now,
        )
    )


@functools.cache
def _tokens_statement() -> Any:
    return select(
        Connection.id,
        Connection.token_version,
        Connection.access_token_enc,
        Connection.refresh_token_enc,
        Connection.expires_at,
        Connection.scopes,
        Connection.account_id,
        Connection.extra,
    ).where(Connection.id.in_(bindparam("ids", expanding=True)))


def connection_tokens(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Row[Any]]:
    """The stored (encrypted) tokens of each connection, read once per connection of a batch."""
    return {row.id: row for row in session.execute(_tokens_statement(), {"ids": list(ids)})}


def media_of(session: Session, post_id: uuid.UUID) -> Sequence[Media]:
    """A post's media, in order."""
    return session.scalars(
        select(Media).where(Media.post_id == post_id).order_by(Media.position)
    ).all()


# -- recording ---------------------------------------------------------------------------------
@functools.cache
def _success_statements() -> tuple[Any, Any]:
    table = _table(Publication)
    # Success is the truth whoever holds the lease now: recorded unconditionally.
    common = {
        "external_id": bindparam("eid"),
        "external_url": bindparam("url"),
        "published_at": _typed("now", table.c.published_at),
        "reconcile": False,
        "last_error": None,
        "error_class": None,
        "state": PublicationState.published.value,
        "lease_owner": None,
        "lease_expires_at": None,
        "updated_at": _typed("now", table.c.updated_at),
    }
    by_id = update(table).where(table.c.id == bindparam("pid"))
    with_parts = by_id.values(**common, parts_published=_typed("parts", table.c.parts_published))
    return with_parts, by_id.values(**common)


def mark_published(
    session: Session,
    with_parts: list[dict[str, Any]],
    without_parts: list[dict[str, Any]],
    now: datetime,
) -> None:
    """Record successes (``pid``, ``eid``, ``url`` and, for threads, ``parts``): one
    executemany UPDATE per shape."""
    parts_stmt, plain_stmt = _success_statements()
    if with_parts:
        session.execute(parts_stmt, [{**p, "now": now} for p in with_parts])
    if without_parts:
        session.execute(plain_stmt, [{**p, "now": now} for p in without_parts])


def publications_with_posts(
    session: Session, ids: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, Publication], dict[uuid.UUID, Post]]:
    """The publications of ``ids`` and their posts, as ORM objects (failures to record)."""
    pubs = {p.id: p for p in session.scalars(select(Publication).where(Publication.id.in_(ids)))}
    posts = {
        p.id: p
        for p in session.scalars(
            select(Post).where(Post.id.in_({pub.post_id for pub in pubs.values()}))
        )
    }
    return pubs, posts


@functools.cache
def _post_states_statement() -> Any:
    return (
        select(Publication.id, Publication.post_id, Publication.state, Post.status)
        .join(Post, Post.id == Publication.post_id)
        .where(Publication.post_id.in_(bindparam("post_ids", expanding=True)))
    )


def publication_states(session: Session, post_ids: Iterable[uuid.UUID]) -> list[Row[Any]]:
    """(publication id, post id, publication state, post status) of every publication of the
    posts."""
    return list(session.execute(_post_states_statement(), {"post_ids": list(post_ids)}).all())


@functools.cache
def _post_status_statement() -> Any:
    table = _table(Post)
    return (
        update(table)
        .where(table.c.id.in_(bindparam("ids", expanding=True)))
        .values(
            status=bindparam("status"),
            version=table.c.version + 1,
            updated_at=_typed("now", table.c.updated_at),
        )
    )


def set_post_status(session: Session, ids: list[uuid.UUID], status: str, now: datetime) -> None:
    """Give the posts ``status`` (a new version each)."""
    session.execute(_post_status_statement(), {"ids": ids, "status": status, "now": now})


def lock_publication(session: Session, publication_id: uuid.UUID) -> Publication | None:
    """A publication by id (to save a thread's progress)."""
    return session.get(Publication, publication_id)


def connection_by_id(session: Session, connection_id: uuid.UUID) -> Connection | None:
    return session.get(Connection, connection_id)


# -- scheduling (the service's reads) ----------------------------------------------------------
def post_in_workspace(session: Session, workspace_id: uuid.UUID, post_id: uuid.UUID) -> Post | None:
    return session.scalars(
        select(Post).where(Post.id == post_id, Post.workspace_id == workspace_id)
    ).first()


def post_by_id(session: Session, post_id: uuid.UUID) -> Post | None:
    return session.get(Post, post_id)


def persona_by_id(session: Session, persona_id: uuid.UUID) -> Persona | None:
    return session.get(Persona, persona_id)


def connections_in_workspace(
    session: Session, workspace_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> list[Connection]:
    return list(
        session.scalars(
            select(Connection).where(
                Connection.id.in_(list(ids)), Connection.workspace_id == workspace_id
            )
        )
    )


_USABLE = [ConnectionState.active.value, ConnectionState.expiring.value]


def usable_connections(
    session: Session, persona_id: uuid.UUID, platforms: Sequence[str]
) -> list[Connection]:
    """The persona's active or expiring connections on ``platforms``, by platform then age."""
    return list(
        session.scalars(
            select(Connection)
            .where(
                Connection.persona_id == persona_id,
                Connection.state.in_(_USABLE),
                Connection.platform.in_(list(platforms)),
            )
            .order_by(Connection.platform, Connection.created_at)
        )
    )


def all_usable_connections(session: Session, persona_id: uuid.UUID) -> list[Connection]:
    """The persona's active or expiring connections on any platform, by platform then age."""
    return list(
        session.scalars(
            select(Connection)
            .where(Connection.persona_id == persona_id, Connection.state.in_(_USABLE))
            .order_by(Connection.platform, Connection.created_at)
        )
    )


def usable_platforms(session: Session, persona_id: uuid.UUID) -> set[str]:
    """The platforms the persona has an active or expiring connection on."""
    return set(
        session.scalars(
            select(Connection.platform).where(
                Connection.persona_id == persona_id, Connection.state.in_(_USABLE)
            )
        )
    )


def slot_use(
    session: Session, connection_id: uuid.UUID, states: Sequence[str]
) -> dict[datetime, int]:
    """How many publications in ``states`` each slot of the connection holds."""
    rows = session.execute(
        select(Publication.slot_at, func.count())
        .where(
            Publication.connection_id == connection_id,
            Publication.state.in_(list(states)),
            Publication.slot_at.is_not(None),
        )
        .group_by(Publication.slot_at)
    ).all()
    return {ensure_utc(slot): n for slot, n in rows if slot is not None}


def publications_of_post(session: Session, post_id: uuid.UUID) -> list[Publication]:
    return list(
        session.scalars(
            select(Publication)
            .where(Publication.post_id == post_id)
            .order_by(Publication.scheduled_at, Publication.platform)
        )
    )


def publication_in_workspace(
    session: Session, workspace_id: uuid.UUID, publication_id: uuid.UUID
) -> Publication | None:
    return session.scalars(
        select(Publication).where(
            Publication.id == publication_id, Publication.workspace_id == workspace_id
        )
    ).first()


def recent_problems(
    session: Session, workspace_id: uuid.UUID, limit: int = 20
) -> list[Publication]:
    """The workspace's latest failed, missed, held or unknown publications (the Jobs page)."""
    return list(
        session.scalars(
            select(Publication)
            .where(
                Publication.workspace_id == workspace_id,
                Publication.state.in_(["failed", "missed", "held", "unknown"]),
            )
            .order_by(Publication.updated_at.desc())
            .limit(limit)
        )
    )


# -- the dashboard ---------------------------------------------------------------------------
# Small indexed reads whose cost does not grow with history (``dashboard.py`` says which index).
def persona_count(session: Session, workspace_id: uuid.UUID) -> int:
    count = session.scalar(
        select(func.count()).select_from(Persona).where(Persona.workspace_id == workspace_id)
    )
    return int(count or 0)


def _in_review(workspace_id: uuid.UUID) -> tuple[Any, Any]:
    return Post.workspace_id == workspace_id, Post.status == "in_review"


def newest_in_review(
    session: Session, workspace_id: uuid.UUID, limit: int, head: int
) -> list[Row[Any]]:
    """(id, body_head, persona_name) of the newest posts in review."""
    return list(
        session.execute(
            select(
                Post.id,
                func.substr(Post.body, 1, head).label("body_head"),
                Persona.name.label("persona_name"),
            )
            .join(Persona, Persona.id == Post.persona_id)
            .where(*_in_review(workspace_id))
            .order_by(Post.created_at.desc(), Post.id.desc())
            .limit(limit)
        )
    )


def in_review_count(session: Session, workspace_id: uuid.UUID, cap: int) -> int:
    """How many posts are in review, counting no further than ``cap``."""
    capped = select(Post.id).where(*_in_review(workspace_id)).limit(cap).subquery()
    return int(session.scalar(select(func.count()).select_from(capped)) or 0)


def publication_heads(
    session: Session,
    workspace_id: uuid.UUID,
    states: tuple[str, ...],
    now: datetime,
    *,
    upcoming: bool,
    limit: int,
    head: int,
) -> list[Row[Any]]:
    """The first ``limit`` publications of each state, each read in index order (no sort), as
    one query: upcoming by time from ``now``, else the latest updated."""
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
                func.substr(Post.body, 1, head).label("body_head"),
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
        sub = stmt.limit(limit).subquery()
        # SQLite takes ORDER BY/LIMIT in a compound member only inside a subquery.
        members.append(select(*sub.c))
    return list(session.execute(union_all(*members)))


# -- the daily summary (publishing/summary.py keeps it) ----------------------------------------
SummaryWindow = tuple[uuid.UUID, uuid.UUID, str, datetime, datetime]
SummaryKey = tuple[uuid.UUID, uuid.UUID, str, date]


def latest_reading(session: Session) -> tuple[Any, Any]:
    """(a from-clause with the columns of each publication's latest reading, its ON clause).

    One seek in ix_metric_snapshots_publication_taken per publication, never a GROUP BY over
    the metrics history: on PostgreSQL a LATERAL subquery (a correlated one in the ON clause
    made it hash the whole metric_snapshots table), on SQLite (no LATERAL) the latest id as a
    correlated subquery, then its row by primary key.
    """
    latest = (
        select(MetricSnapshot.id)
        .where(MetricSnapshot.publication_id == Publication.id)
        .order_by(MetricSnapshot.taken_at.desc(), MetricSnapshot.id.desc())
        .limit(1)
        .correlate(Publication)
    )
    if session.get_bind().dialect.name != "postgresql":
        table = MetricSnapshot.__table__
        return table, table.c.id == latest.scalar_subquery()
    figures = [getattr(MetricSnapshot, name) for name in READING_FIELDS]
    lateral = latest.add_columns(*figures).lateral("latest_reading")
    return lateral, true()


def source_rows(session: Session, *conditions: Any) -> list[Any]:
    """Published publications matching ``conditions`` with their latest reading: (workspace,
    persona, platform, published_at, measured, likes, reposts, replies, quotes, impressions,
    publication id)."""
    reading, onclause = latest_reading(session)
    stmt = (
        select(
            Publication.workspace_id,
            Post.persona_id,
            Publication.platform,
            Publication.published_at,
            reading.c.id.is_not(None).label("measured"),
            *(reading.c[name] for name in READING_FIELDS),
            Publication.id,
        )
        .join(Post, Post.id == Publication.post_id)
        .outerjoin(reading, onclause)
        .where(Publication.state == PublicationState.published.value, *conditions)
    )
    return list(session.execute(stmt))


def published_in_windows(session: Session, windows: Sequence[SummaryWindow]) -> list[Any]:
    """``source_rows`` of the (workspace, persona, platform, from, until) windows.

    One query per window: each is one range of ix_publications_workspace_state_published; an
    OR of the windows made SQLite walk every published publication (1.5 s at 96,000, on every
    recorded batch)."""
    rows: list[Any] = []
    for ws, persona, platform, start, end in windows:
        rows += source_rows(
            session,
            Publication.workspace_id == ws,
            Post.persona_id == persona,
            Publication.platform == platform,
            Publication.published_at >= start,
            Publication.published_at < end,
        )
    return rows


def published_of(
    session: Session, workspace_id: uuid.UUID | None, persona_id: uuid.UUID | None
) -> list[Any]:
    """``source_rows`` of a workspace, a persona, both or (``None``, ``None``) everything."""
    conditions: list[Any] = []
    if workspace_id is not None:
        conditions.append(Publication.workspace_id == workspace_id)
    if persona_id is not None:
        conditions.append(Post.persona_id == persona_id)
    return source_rows(session, *conditions)


def persona_timezones(
    session: Session, persona_ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, str | None]]:
    """(persona id, time zone name) of these personas."""
    stmt = select(Persona.id, Persona.timezone).where(Persona.id.in_(list(persona_ids)))
    return [(pid, name) for pid, name in session.execute(stmt)]


def _publication_days(session: Session, condition: Any) -> list[Row[Any]]:
    return list(
        session.execute(
            select(
                Publication.workspace_id,
                Post.persona_id,
                Publication.platform,
                Publication.published_at,
                Persona.timezone,
            )
            .join(Post, Post.id == Publication.post_id)
            .join(Persona, Persona.id == Post.persona_id)
            .where(condition, Publication.published_at.is_not(None))
        )
    )


def publication_days_of_post(session: Session, post_id: uuid.UUID) -> list[Row[Any]]:
    """(workspace, persona, platform, published_at, persona time zone) of the post's
    publications that have a publication time."""
    return _publication_days(session, Publication.post_id == post_id)


def publication_days_of(session: Session, publication_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
    """As ``publication_days_of_post``, for these publications."""
    return _publication_days(session, Publication.id.in_(list(publication_ids)))


def insert_summary_days(session: Session, values: list[dict[str, Any]]) -> None:
    """Insert ``analytics_days`` rows (nothing for an empty list)."""
    if values:
        session.execute(insert(AnalyticsDay), values)


def delete_summary_days(session: Session, keys: Iterable[SummaryKey]) -> None:
    """Delete the ``analytics_days`` rows of these (workspace, persona, platform, day) keys."""
    session.execute(
        delete(AnalyticsDay)
        .where(
            or_(
                *(
                    and_(
                        AnalyticsDay.workspace_id == ws,
                        AnalyticsDay.persona_id == persona,
                        AnalyticsDay.platform == platform,
                        AnalyticsDay.day == day,
                    )
                    for ws, persona, platform, day in keys
                )
            )
        )
        .execution_options(synchronize_session=False)
    )


def delete_summary_scope(
    session: Session, workspace_id: uuid.UUID | None, persona_id: uuid.UUID | None
) -> None:
    """Delete the ``analytics_days`` rows of a workspace, a persona, both or everything."""
    removal = delete(AnalyticsDay)
    if workspace_id is not None:
        removal = removal.where(AnalyticsDay.workspace_id == workspace_id)
    if persona_id is not None:
        removal = removal.where(AnalyticsDay.persona_id == persona_id)
    session.execute(removal.execution_options(synchronize_session=False))


def advisory_xact_lock(session: Session, key: int, *, shared: bool = False) -> None:
    """Take a PostgreSQL transaction-scoped advisory lock (exclusive or shared) on ``key``."""
    lock = func.pg_advisory_xact_lock_shared if shared else func.pg_advisory_xact_lock
    session.execute(select(lock(key)))


# -- pages and the command line ----------------------------------------------------------------
def changed_publications(
    session: Session,
    workspace_id: uuid.UUID,
    since: datetime,
    states: Sequence[str],
    *,
    limit: int,
) -> list[Publication]:
    """The workspace's publications in ``states`` updated after ``since``, oldest change
    first (the live events stream)."""
    return list(
        session.scalars(
            select(Publication)
            .where(
                Publication.workspace_id == workspace_id,
                Publication.updated_at > since,
                Publication.state.in_(states),
            )
            .order_by(Publication.updated_at)
            .limit(limit)
        )
    )


def upcoming_queue(session: Session, limit: int) -> list[Row[Publication, Post, Persona]]:
    """(publication, post, persona) of the next ``limit`` scheduled, unknown or held
    publications of every workspace, soonest first (``digipersona queue``)."""
    return list(
        session.execute(
            select(Publication, Post, Persona)
            .join(Post, Post.id == Publication.post_id)
            .join(Persona, Persona.id == Post.persona_id)
            .where(
                Publication.state.in_(
                    [PublicationState.scheduled.value, PublicationState.unknown.value, "held"]
                )
            )
            .order_by(Publication.next_attempt_at)
            .limit(limit)
        ).all()
    )


def pending_publications_of_post(session: Session, post_id: uuid.UUID) -> list[Publication]:
    """The post's scheduled or held publications (``digipersona publish-now``)."""
    return list(
        session.scalars(
            select(Publication).where(
                Publication.post_id == post_id,
                Publication.state.in_([PublicationState.scheduled.value, "held"]),
            )
        )
    )


def publications_by_ids(session: Session, ids: Sequence[uuid.UUID]) -> list[Publication]:
    """These publications (any workspace), in no particular order."""
    return list(session.scalars(select(Publication).where(Publication.id.in_(list(ids)))))


def scheduled_times(session: Session, post_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    """Each post's first scheduled time over its publications (posts without any left out).

    One grouped query over the publications of the given posts (the content list's page).
    """
    ids = list(post_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Publication.post_id, func.min(Publication.scheduled_at))
        .where(Publication.post_id.in_(ids))
        .group_by(Publication.post_id)
    )
    return {post_id: ensure_utc(at) for post_id, at in rows if at is not None}
