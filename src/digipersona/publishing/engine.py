"""The publishing engine: claim due publications, publish them once, retry by error class.

Guarantees (DESIGN.md "Publishing guarantees"), and how this module keeps them:

1. Due work is claimed atomically with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, one
   ``BEGIN IMMEDIATE`` writer on SQLite), in priority then time order.
2. Nothing is posted twice: a worker moves its row ``claimed -> sending`` only while it holds
   the lease; a ``sending`` row whose lease expires (worker killed) becomes ``unknown`` and is
   *reconciled* through ``Provider.lookup`` before any new attempt.
3. Retries follow the error class (``platforms/errors.py``).
4. Quotas are counted in the database before sending (``quotas.py``).
5. A paused connection holds its publications (state ``held``); reconnecting resumes them.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Table, bindparam, case, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from digipersona.config import Settings
from digipersona.connections.credentials import refresh_serialised
from digipersona.connections.service import check_expiring, resume_connection
from digipersona.db import write_scope
from digipersona.kit.crypto import TokenCipher
from digipersona.kit.time import ensure_utc, utcnow
from digipersona.kit.words import plural
from digipersona.models import (
    Connection,
    ConnectionState,
    Heartbeat,
    Media,
    Persona,
    Post,
    PostStatus,
    Publication,
    PublicationState,
    Variant,
)
from digipersona.notifications.service import notify
from digipersona.platforms import errors
from digipersona.platforms.base import (
    Credentials,
    MediaItem,
    Provider,
    PublishedPart,
    PublishRequest,
    PublishResult,
)
from digipersona.platforms.factory import build_provider
from digipersona.publishing import metrics, quotas, summary
from digipersona.publishing.reply_targets import reply_target_column, to_reply_target

logger = logging.getLogger("digipersona.engine")

# Heartbeats of processes silent this long are deleted (the Jobs page shows a day of them).
HEARTBEAT_KEEP = timedelta(days=7)
CLAIMABLE = (PublicationState.scheduled.value, PublicationState.unknown.value)
HOLD_STATES = {
    ConnectionState.paused.value,
    ConnectionState.revoked.value,
    ConnectionState.needs_reconnect.value,
}


@dataclass
class Engine:
    """Everything the engine needs; one per process, shared by its threads."""

    settings: Settings
    factory: sessionmaker[Session]
    cipher: TokenCipher
    http: httpx.Client
    clock: Callable[[], datetime] = utcnow
    rng: random.Random = field(default_factory=random.Random)
    _providers: dict[str, Provider] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _plain: dict[str, str] = field(default_factory=dict)
    _pool: ThreadPoolExecutor | None = None

    def provider(self, platform: str) -> Provider:
        provider = self._providers.get(platform)
        if provider is not None:
            return provider
        with self._lock:
            if platform not in self._providers:
                self._providers[platform] = build_provider(platform, self.settings, self.http)
            return self._providers[platform]

    def decrypt(self, ciphertext: str) -> str:
        """Decrypt a stored token, once per distinct ciphertext (Fernet costs ~30 us a call and
        a batch sends many posts per connection). Plaintexts stay in this process only, as they
        do during every provider call."""
        plain = self._plain.get(ciphertext)
        if plain is None:
            plain = self.cipher.decrypt(ciphertext)
            if len(self._plain) >= 4096:
                self._plain.clear()
            self._plain[ciphertext] = plain
        return plain

    def pool(self) -> ThreadPoolExecutor:
        """Threads for concurrent platform calls of one batch (``execute_batch``), made on first
        use so a forked Celery child builds its own."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self.settings.worker_threads, thread_name_prefix="dp-call"
                )
            return self._pool


# -- claiming ----------------------------------------------------------------------------------
# The hot-path statements are built once (per dialect) with bound parameters: building and
# cache-keying a statement per batch costs more than executing it.
def _typed(name: str, column: Any) -> Any:
    return bindparam(name, type_=column.type)


@functools.cache
def _claim_statements(dialect: str) -> tuple[Any, Any]:
    # Two steps in one transaction: pick the due ids in order, then lease exactly those. (One
    # UPDATE ... WHERE id IN (subquery) makes SQLite walk every claimable row for the outer
    # UPDATE, which costs as much as the whole batch when thousands are due at once.)
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


def _claim(
    session: Session, engine: Engine, owner: str, limit: int, now: datetime
) -> list[uuid.UUID]:
    due, lease = _claim_statements(session.get_bind().dialect.name)
    ids = list(session.scalars(due, {"now": now, "limit": limit}))
    if not ids:
        return []
    leased = set(
        session.scalars(
            lease,
            {
                "ids": ids,
                "owner": owner,
                "lease": now + timedelta(seconds=engine.settings.publish_lease_seconds),
            },
        )
    )
    return [pid for pid in ids if pid in leased]  # priority then time order


def claim_due(engine: Engine, owner: str, limit: int) -> list[uuid.UUID]:
    """Lease up to ``limit`` due publications to ``owner``; no other claimer can get them."""
    now = engine.clock()
    with write_scope(engine.factory) as session:
        return _claim(session, engine, owner, limit, now)


def cycle(
    engine: Engine, owner: str, finished: list[tuple[_Prepared, Outcome]], limit: int
) -> tuple[dict[uuid.UUID, str], list[_Prepared], dict[uuid.UUID, str]]:
    """One round of the embedded dispatcher in one transaction: record ``finished`` outcomes,
    claim up to ``limit`` due publications and prepare them (the steps of ``record_outcomes``,
    ``claim_due`` and ``prepare_batch``). Returns the recorded states, what to send, and the
    state of every claimed publication."""
    now = engine.clock()
    prepared: list[_Prepared] = []
    states: dict[uuid.UUID, str] = {}
    with write_scope(engine.factory) as session:
        recorded = _record(session, engine, finished, owner, now) if finished else {}
        if limit > 0:
            # Claimed and prepared by one statement: the due ids are picked (on PostgreSQL
            # locked, skipping rows another scheduler holds) inside the SELECT that reads what
            # sending needs, and the rows go straight to ``sending`` (or are settled) without
            # the intermediate ``claimed`` write.
            prepared, states = _prepare(session, engine, owner, now, limit=limit)
    return recorded, prepared, states


def release_expired(engine: Engine) -> tuple[int, int]:
    """Return leases of dead claimers: unsent rows go back to the queue, in-flight ones to
    reconciliation. Returns (requeued, to_reconcile)."""
    now = engine.clock()
    with write_scope(engine.factory) as session:
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
    if requeued or lost:
        logger.warning("released %s expired claims and %s lost sends", requeued, lost)
    return int(requeued or 0), int(lost or 0)


def periodic_checks(engine: Engine) -> dict[str, int]:
    """Slow housekeeping (about once a minute): connections whose pause ended resume their
    held publications; tokens about to expire are warned about (14, 7, 1 days); heartbeats of
    long-gone processes are dropped."""
    now = engine.clock()
    resumed = 0
    with write_scope(engine.factory) as session:
        for connection in session.scalars(
            select(Connection).where(
                Connection.state == ConnectionState.paused.value,
                Connection.paused_until.is_not(None),
                Connection.paused_until <= now,
            )
        ):
            connection.state = ConnectionState.active.value
            connection.state_reason = None
            connection.paused_until = None
            session.flush()
            resumed += resume_connection(session, connection, now)
        warned = check_expiring(session, now)
        # Every process start beats under a new name: forget those silent for a week.
        result = session.execute(delete(Heartbeat).where(Heartbeat.beat_at < now - HEARTBEAT_KEEP))
    forgotten = int(getattr(result, "rowcount", 0) or 0)
    return {"resumed": resumed, "warned": warned, "forgotten": forgotten}


def next_due_at(engine: Engine) -> datetime | None:
    """When the next claimable publication is due (for the dispatcher's sleep)."""
    with engine.factory() as session:
        value = session.scalar(
            select(func.min(Publication.next_attempt_at)).where(Publication.state.in_(CLAIMABLE))
        )
    return ensure_utc(value) if value else None


def beat(engine: Engine, name: str, kind: str) -> None:
    """Record that a scheduler or worker is alive."""
    now = engine.clock()
    with write_scope(engine.factory) as session:
        row = session.get(Heartbeat, name)
        if row is None:
            session.add(Heartbeat(name=name, kind=kind, beat_at=now))
        else:
            row.beat_at = now


# -- executing ----------------------------------------------------------------------------------
@dataclass
class _Prepared:
    publication_id: uuid.UUID
    connection_id: uuid.UUID
    post_id: uuid.UUID
    platform: str
    scheduled_at: datetime
    token_version: int
    reconcile: bool
    request: PublishRequest
    credentials: Any
    # A prepared publication waits in a local queue (the embedded pool) before it is sent. Its
    # lease must outlast the platform call, or an expired lease sends it to reconciliation
    # while this copy is still about to publish: a post left waiting past ``send_by`` (half
    # the lease) is not sent at all.
    send_by: datetime


Outcome = PublishResult | errors.PlatformError


def execute(engine: Engine, publication_id: uuid.UUID, owner: str) -> str:
    """Publish one claimed publication; returns the state it ended in (for tests and logs).

    Safe to call twice: only the lease holder moves a row to ``sending``.
    """
    prepared, states = prepare_batch(engine, [publication_id], owner)
    if not prepared:
        return states.get(publication_id, "lost")
    outcome = call_provider(engine, prepared[0])
    return record_outcomes(engine, [(prepared[0], outcome)], owner)[publication_id]


def execute_batch(
    engine: Engine, publication_ids: list[uuid.UUID], owner: str
) -> dict[uuid.UUID, str]:
    """Publish a chunk of claimed publications: one transaction moves them to ``sending``, the
    platform calls run concurrently, one transaction records the outcomes.

    Safe to call twice, like ``execute``: rows already past ``claimed`` are left alone.
    """
    prepared, states = prepare_batch(engine, publication_ids, owner)
    if len(prepared) == 1:
        outcomes = [call_provider(engine, prepared[0])]
    else:
        outcomes = list(engine.pool().map(lambda item: call_provider(engine, item), prepared))
    states.update(record_outcomes(engine, list(zip(prepared, outcomes, strict=True)), owner))
    return states


def call_provider(engine: Engine, prepared: _Prepared) -> Outcome:
    """The platform call (no database work unless a token must be refreshed)."""
    provider = engine.provider(prepared.platform)
    started = engine.clock()
    if started > prepared.send_by:
        return errors.Transient(
            "Not sent: it waited too long in this worker's queue (its lease could run out "
            "during the call); it goes back to the queue.",
            platform=prepared.platform,
        )
    credentials = prepared.credentials
    try:
        for attempt in (0, 1):
            try:
                result = None
                if prepared.reconcile:
                    result = provider.lookup(credentials, prepared.request)
                if result is None:
                    result = provider.publish(credentials, prepared.request)
                metrics.observe_attempt(prepared.platform, "ok", engine.clock() - started)
                return result
            except errors.AuthExpired:
                if attempt == 1:
                    raise
                credentials = refresh_serialised(
                    engine.factory,
                    prepared.connection_id,
                    prepared.token_version,
                    provider,
                    engine.cipher,
                )
    except errors.PlatformError as exc:
        metrics.observe_attempt(prepared.platform, type(exc).__name__, engine.clock() - started)
        return exc
    except Exception as exc:  # a bug or an unmapped library error: it may have posted
        logger.exception("unexpected error publishing %s", prepared.publication_id)
        metrics.observe_attempt(prepared.platform, "Unexpected", engine.clock() - started)
        return errors.UnknownOutcome(f"Unexpected error: {type(exc).__name__}")
    raise AssertionError("unreachable")  # pragma: no cover


# Columns prepare_batch reads, as one Core row per publication (no ORM objects on the hot
# path). Need another field in _build_request? Add its column here.
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
        reply_target_column(),
    )


@functools.cache
def _prepare_statement(dialect: str, claim: bool) -> Any:
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
        due, _lease = _claim_statements(dialect)
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


@functools.cache
def _credentials_statement() -> Any:
    # Once per connection of a batch, not per publication.
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


def prepare_batch(
    engine: Engine, ids: list[uuid.UUID], owner: str
) -> tuple[list[_Prepared], dict[uuid.UUID, str]]:
    """Move claimed rows to ``sending`` in one transaction, or settle them (missed, held,
    deferred for a quota). Returns what to send and the state of the rest."""
    if not ids:
        return [], {}
    now = engine.clock()
    with write_scope(engine.factory) as session:
        return _prepare(session, engine, owner, now, ids=ids)


def _prepare(
    session: Session,
    engine: Engine,
    owner: str,
    now: datetime,
    *,
    ids: list[uuid.UUID] | None = None,
    limit: int = 0,
) -> tuple[list[_Prepared], dict[uuid.UUID, str]]:
    """``prepare_batch`` inside a transaction: ``ids`` are rows claimed by ``owner``. Without
    ``ids``, up to ``limit`` due rows are claimed by the same statement (``cycle``).

    The common case (on time, connection active, no spend budget) is two Core statements for
    the whole batch; publications that must be settled otherwise (missed, held, budget) take
    the ORM path through ``_admit``.
    """
    prepared: list[_Prepared] = []
    dialect = session.get_bind().dialect.name
    if ids is None:
        stmt = _prepare_statement(dialect, True)
        rows = list(session.execute(stmt, {"now": now, "limit": limit}))  # priority, time order
        ids = [row.id for row in rows]
    elif ids:
        result = session.execute(_prepare_statement(dialect, False), {"ids": ids, "owner": owner})
        by_id = {row.id: row for row in result}
        rows = [by_id[pid] for pid in dict.fromkeys(ids) if pid in by_id]  # claim order
    else:
        rows = []
    if not rows:
        return prepared, dict.fromkeys(ids, "lost")
    states: dict[uuid.UUID, str] = {}
    parts_of = {row.id: list(row.variant_parts or ()) or [row.body] for row in rows}
    slow = [row.id for row in rows if _needs_orm(engine, row, parts_of[row.id], now)]
    orm: dict[uuid.UUID, Any] = {}
    if slow:
        orm = {
            pub.id: (pub, connection, post, persona)
            for pub, connection, post, persona in session.execute(
                select(Publication, Connection, Post, Persona)
                .join(Connection, Connection.id == Publication.connection_id)
                .join(Post, Post.id == Publication.post_id)
                .join(Persona, Persona.id == Post.persona_id)
                .where(Publication.id.in_(slow))
            ).all()
        }
    sending = []
    rules: dict[str, list[quotas.QuotaRule]] = {}
    for row in rows:
        if row.id in orm:
            pub, connection, post, persona = orm[row.id]
            state = _admit(session, engine, pub, connection, post, persona, now, parts_of[row.id])
        else:
            if row.platform not in rules:
                rules[row.platform] = quotas.rules_for(row.platform, engine.settings)
            state = _consume_quota(session, rules[row.platform], row, now)
        if state is not None:
            states[row.id] = state
        else:
            sending.append(row)
    if sending:
        lease = now + timedelta(seconds=engine.settings.publish_lease_seconds)
        session.execute(
            _sending_statement(),
            {"ids": [row.id for row in sending], "now": now, "lease": lease, "owner": owner},
        )
    connections = {}
    if sending:
        connections = {
            c.id: c
            for c in session.execute(
                _credentials_statement(), {"ids": list({row.connection_id for row in sending})}
            ).all()
        }
    credentials = {cid: _credentials(engine, c) for cid, c in connections.items()}
    send_by = now + timedelta(seconds=engine.settings.publish_lease_seconds / 2)
    for row in sending:
        prepared.append(
            _Prepared(
                publication_id=row.id,
                connection_id=row.connection_id,
                post_id=row.post_id,
                platform=row.platform,
                scheduled_at=row.scheduled_at,
                token_version=connections[row.connection_id].token_version,
                reconcile=row.reconcile,
                request=_build_request(
                    session, engine, row, parts_of[row.id], owner=owner, with_media=row.has_media
                ),
                credentials=credentials[row.connection_id],
                send_by=send_by,
            )
        )
        states[row.id] = PublicationState.sending.value
    for pid in ids:
        states.setdefault(pid, "lost")
    return prepared, states


def _table(model: Any) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _needs_orm(engine: Engine, row: Any, parts: list[str], now: datetime) -> bool:
    """True when the publication may not simply be sent: it is too late, its connection is
    held, or it costs money against a budget (all settled by ``_admit`` on ORM objects)."""
    fresh = not row.reconcile and not row.parts_published
    if fresh and now - row.scheduled_at > timedelta(minutes=row.max_lateness_minutes):
        return True
    if row.connection_state in HOLD_STATES or (row.paused_until and row.paused_until > now):
        return True
    return fresh and engine.provider(row.platform).estimate_cost_usd(parts) > 0


def _consume_quota(
    session: Session, rules: list[quotas.QuotaRule], row: Any, now: datetime
) -> str | None:
    """``_admit``'s quota step for a Core row: None if it may be sent, else "deferred"."""
    if row.reconcile or row.parts_published:
        return None
    if not rules:
        return None
    try:
        quotas.consume(
            session, rules, platform=row.platform, connection_id=row.connection_id, now=now
        )
    except quotas.QuotaExceeded as exc:
        table = _table(Publication)
        session.execute(
            update(table)
            .where(table.c.id == row.id)
            .values(
                state=PublicationState.scheduled.value,
                next_attempt_at=exc.retry_at,
                lease_owner=None,
                lease_expires_at=None,
                last_error=f"Waiting for the {exc.rule.name} quota window to reset.",
                updated_at=now,
            )
        )
        return "deferred"
    return None


def _credentials(engine: Engine, row: Any) -> Credentials:
    """A connection's credentials from a Core row (like ``credentials_for``), decrypting each
    distinct ciphertext once per process."""
    return Credentials(
        access_token=engine.decrypt(row.access_token_enc),
        refresh_token=engine.decrypt(row.refresh_token_enc) if row.refresh_token_enc else None,
        expires_at=row.expires_at,
        scopes=tuple(row.scopes),
        account_id=row.account_id,
        extra=dict(row.extra),
    )


def _admit(
    session: Session,
    engine: Engine,
    pub: Publication,
    connection: Connection,
    post: Post,
    persona: Persona,
    now: datetime,
    parts: list[str],
) -> str | None:
    """None if the publication may be sent now; otherwise settle it and say how."""
    late = now - ensure_utc(pub.scheduled_at)
    if (
        not pub.reconcile
        and not pub.parts_published
        and late > timedelta(minutes=persona.max_lateness_minutes)
    ):
        _set_final(session, pub, post, PublicationState.missed, _late_message(late, persona))
        notify(
            session,
            workspace_id=pub.workspace_id,
            kind="publication.missed",
            title=f"Missed: a {pub.platform} post of {persona.name} was not sent",
            body=pub.last_error or "",
            data={"publication_id": str(pub.id), "post_id": str(post.id)},
        )
        metrics.PUBLICATIONS.labels(pub.platform, "missed").inc()
        return PublicationState.missed.value
    paused_until = ensure_utc(connection.paused_until) if connection.paused_until else None
    if connection.state in HOLD_STATES or (paused_until and paused_until > now):
        _hold(pub, connection.state_reason or f"The connection is {connection.state}.")
        return PublicationState.held.value
    if not pub.reconcile and not pub.parts_published:
        try:
            quotas.consume(
                session,
                quotas.rules_for(pub.platform, engine.settings),
                platform=pub.platform,
                connection_id=connection.id,
                now=now,
            )
        except quotas.QuotaExceeded as exc:
            pub.state = PublicationState.scheduled.value
            pub.next_attempt_at = exc.retry_at
            pub.lease_owner = pub.lease_expires_at = None
            pub.last_error = f"Waiting for the {exc.rule.name} quota window to reset."
            return "deferred"
        if not _within_budget(session, engine, pub, connection, parts, now):
            return PublicationState.held.value
    return None


def _within_budget(
    session: Session,
    engine: Engine,
    pub: Publication,
    connection: Connection,
    parts: list[str],
    now: datetime,
) -> bool:
    """Reserve the post's estimated price against the connection's monthly budget.

    The price is reserved when the post is sent (a failed send keeps its reservation: the
    budget errs on the safe side). Over budget, the connection pauses until the next month.
    """
    cost = engine.provider(pub.platform).estimate_cost_usd(parts)
    if cost <= 0:
        return True
    month = now.strftime("%Y-%m")
    spent = float(connection.spend_usd or 0) if connection.spend_month == month else 0.0
    budget = connection.monthly_budget_usd
    if budget is not None and spent + cost > float(budget) + 1e-9:
        next_month = (now.replace(day=1) + timedelta(days=32)).replace(
            day=1, hour=0, minute=0, second=0, microsecond=0
        )
        reason = (
            f"The monthly budget of ${float(budget):.2f} would be exceeded (${spent:.2f} spent, "
            f"this post costs about ${cost:.3f}). Raise the budget or wait for {month} to end."
        )
        _pause(session, connection, ConnectionState.paused, reason, until=next_month)
        _hold(pub, reason)
        return False
    connection.spend_month = month
    connection.spend_usd = round(spent + cost, 4)
    return True


def _late_message(late: timedelta, persona: Persona) -> str:
    minutes = int(late.total_seconds() // 60)
    return (
        f"It was {plural(minutes, 'minute')} late and {persona.name} gives up after "
        f"{plural(persona.max_lateness_minutes, 'minute')}, so it was not posted. Reschedule it "
        "if it is "
        "still relevant."
    )


def _hold(pub: Publication, reason: str) -> None:
    pub.state = PublicationState.held.value
    pub.lease_owner = pub.lease_expires_at = None
    pub.last_error = reason


def _build_request(
    session: Session,
    engine: Engine,
    row: Any,
    parts: list[str],
    *,
    owner: str,
    with_media: bool,
) -> PublishRequest:
    """The PublishRequest of one publication, from its ``_PREP_COLUMNS`` row."""
    media: list[MediaItem] = []
    if with_media:
        media = [
            MediaItem(
                data=m.data,
                mime_type=m.mime_type,
                alt_text=m.alt_text,
                width=m.width,
                height=m.height,
                filename=m.filename,
            )
            for m in session.scalars(
                select(Media).where(Media.post_id == row.post_id).order_by(Media.position)
            )
        ]
    already = [
        PublishedPart(
            index=int(p["index"]),
            external_id=str(p["external_id"]),
            url=p.get("url"),
            extra=p.get("extra") or {},
        )
        for p in row.parts_published
    ]
    publication_id = row.id

    def on_part(part: PublishedPart) -> None:
        _save_part(engine, publication_id, owner, part)

    return PublishRequest(
        parts=parts,
        idempotency_key=row.idempotency_key,
        created_at=row.created_at,
        media=media,
        link=row.link_url,
        language=row.language,
        reply_to=to_reply_target(row.reply_target),
        already_published=already,
        on_part_published=on_part if len(parts) > 1 else None,
        document={
            "post_id": str(row.post_id),
            "publication_id": str(row.id),
            "persona": {"id": str(row.persona_id), "name": row.persona_name},
            "platform": row.platform,
            "body": row.body,
            "parts": parts,
            "link": row.link_url,
            "tags": list(row.tags),
            "scheduled_at": row.scheduled_at.isoformat(),
        },
    )


def _save_part(
    engine: Engine, publication_id: uuid.UUID, owner: str | None, part: PublishedPart
) -> None:
    """Persist thread progress before the next part is sent, and extend the lease."""
    now = engine.clock()
    with write_scope(engine.factory) as session:
        pub = session.get(Publication, publication_id)
        if pub is None:
            return
        done = [p for p in pub.parts_published if int(p["index"]) != part.index]
        done.append(_part_dict(part))
        pub.parts_published = sorted(done, key=lambda p: int(p["index"]))
        if pub.state == PublicationState.sending.value and pub.lease_owner == owner:
            pub.lease_expires_at = now + timedelta(seconds=engine.settings.publish_lease_seconds)


def _part_dict(part: PublishedPart) -> dict[str, Any]:
    return {
        "index": part.index,
        "external_id": part.external_id,
        "url": part.url,
        "extra": dict(part.extra),
    }


def record_outcomes(
    engine: Engine, outcomes: list[tuple[_Prepared, Outcome]], owner: str
) -> dict[uuid.UUID, str]:
    """Write many results in one transaction; returns each publication's new state."""
    if not outcomes:
        return {}
    now = engine.clock()
    with write_scope(engine.factory) as session:
        return _record(session, engine, outcomes, owner, now)


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


def _record(
    session: Session,
    engine: Engine,
    outcomes: list[tuple[_Prepared, Outcome]],
    owner: str,
    now: datetime,
) -> dict[uuid.UUID, str]:
    """``record_outcomes`` inside a transaction.

    Successes (the common case) are one executemany UPDATE plus one read and one UPDATE per
    post status; failures take the ORM path.
    """
    states: dict[uuid.UUID, str] = {}
    successes: list[tuple[_Prepared, PublishResult]] = []
    failures: list[tuple[_Prepared, errors.PlatformError]] = []
    for prepared, outcome in outcomes:
        if isinstance(outcome, PublishResult):
            successes.append((prepared, outcome))
        else:
            failures.append((prepared, outcome))
    if successes:
        with_parts, without = [], []
        for prepared, result in successes:
            params = {"pid": prepared.publication_id, "eid": result.external_id, "url": result.url}
            if result.parts:
                params["parts"] = [_part_dict(p) for p in result.parts]
                with_parts.append(params)
            else:
                without.append(params)
        parts_stmt, plain_stmt = _success_statements()
        if with_parts:
            session.execute(parts_stmt, [{**p, "now": now} for p in with_parts])
        if without:
            session.execute(plain_stmt, [{**p, "now": now} for p in without])
    if failures:
        ids = [p.publication_id for p, _ in failures]
        pubs = {
            p.id: p for p in session.scalars(select(Publication).where(Publication.id.in_(ids)))
        }
        posts = {
            p.id: p
            for p in session.scalars(
                select(Post).where(Post.id.in_({pub.post_id for pub in pubs.values()}))
            )
        }
        for prepared, outcome in failures:
            pub = pubs.get(prepared.publication_id)
            if pub is None:
                states[prepared.publication_id] = "lost"
                continue
            states[pub.id] = _apply_failure(
                session, engine, pub, posts[pub.post_id], outcome, owner, now
            )
        session.flush()
    if successes:
        present = _sync_post_statuses_core(session, {p.post_id for p, _ in successes}, now)
        summary.refresh(session, [p.publication_id for p, _ in successes])
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


@functools.cache
def _post_states_statement() -> Any:
    return (
        select(Publication.id, Publication.post_id, Publication.state, Post.status)
        .join(Post, Post.id == Publication.post_id)
        .where(Publication.post_id.in_(bindparam("post_ids", expanding=True)))
    )


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


def _sync_post_statuses_core(
    session: Session, post_ids: set[uuid.UUID], now: datetime
) -> set[uuid.UUID]:
    """``sync_post_statuses`` without ORM objects: one read, one UPDATE per new status.
    Returns the ids of the posts' publications (to tell which still exist)."""
    states: dict[uuid.UUID, list[str]] = {}
    current: dict[uuid.UUID, str] = {}
    present: set[uuid.UUID] = set()
    for pub_id, post_id, state, status in session.execute(
        _post_states_statement(), {"post_ids": list(post_ids)}
    ).all():
        present.add(pub_id)
        states.setdefault(post_id, []).append(state)
        current[post_id] = status
    changes: dict[str, list[uuid.UUID]] = {}
    for post_id, post_states in states.items():
        new = _status_for(post_states)
        if new is not None and new.value != current[post_id]:
            changes.setdefault(new.value, []).append(post_id)
    for status, ids in changes.items():
        session.execute(_post_status_statement(), {"ids": ids, "status": status, "now": now})
    return present


def _backoff(engine: Engine, attempts: int) -> timedelta:
    base = engine.settings.retry_base_seconds * (2 ** max(0, attempts - 1))
    capped = min(base, engine.settings.retry_max_seconds)
    return timedelta(seconds=capped * (0.5 + engine.rng.random() / 2))


def _apply_failure(
    session: Session,
    engine: Engine,
    pub: Publication,
    post: Post,
    exc: errors.PlatformError,
    owner: str,
    now: datetime,
) -> str:
    if pub.state != PublicationState.sending.value or pub.lease_owner != owner:
        # The lease was lost meanwhile; whoever holds the row now decides.
        return "lost"
    error_class = type(exc).__name__
    pub.error_class = error_class
    pub.last_error = exc.message
    pub.errors = [
        *pub.errors[-19:],
        {"at": now.isoformat(), "class": error_class, "message": exc.message},
    ]
    pub.lease_owner = pub.lease_expires_at = None
    metrics.PUBLICATIONS.labels(pub.platform, error_class).inc()
    if isinstance(exc, errors.RateLimited):
        pub.state = PublicationState.scheduled.value
        pub.next_attempt_at = max(exc.retry_at, now + timedelta(seconds=1))
        return "rate_limited"
    if isinstance(exc, errors.AuthExpired | errors.QuotaExhausted):
        connection = session.get(Connection, pub.connection_id)
        assert connection is not None
        if isinstance(exc, errors.AuthExpired):
            _pause(session, connection, ConnectionState.needs_reconnect, exc.message)
            _hold(pub, f"Reconnect the {pub.platform} account: {exc.message}")
        else:
            _pause(session, connection, ConnectionState.paused, exc.message, until=exc.retry_at)
            _hold(pub, exc.message)
        return PublicationState.held.value
    if isinstance(exc, errors.UnknownOutcome):
        pub.state = PublicationState.unknown.value
        pub.reconcile = True
        pub.next_attempt_at = now + _backoff(engine, 1) / 10
        return PublicationState.unknown.value
    if isinstance(exc, errors.Transient) and pub.attempts < engine.settings.publish_max_attempts:
        pub.state = PublicationState.scheduled.value
        pub.next_attempt_at = now + _backoff(engine, pub.attempts)
        return "retry"
    reason = exc.message
    if isinstance(exc, errors.Transient):
        reason = f"Gave up after {plural(pub.attempts, 'attempt')}: {exc.message}"
    _set_final(session, pub, post, PublicationState.failed, reason)
    notify(
        session,
        workspace_id=pub.workspace_id,
        kind="publication.failed",
        title=f"A {pub.platform} post failed",
        body=reason,
        data={"publication_id": str(pub.id), "post_id": str(post.id)},
    )
    return PublicationState.failed.value


def _pause(
    session: Session,
    connection: Connection,
    state: ConnectionState,
    reason: str,
    *,
    until: datetime | None = None,
) -> None:
    if connection.state == state.value and connection.state_reason == reason:
        return
    connection.state = state.value
    connection.state_reason = reason
    connection.paused_until = until
    notify(
        session,
        workspace_id=connection.workspace_id,
        kind="connection.paused",
        title=f"{connection.platform} account {connection.handle or connection.account_id} "
        "needs attention",
        body=reason,
        data={"connection_id": str(connection.id), "state": state.value},
    )


def _set_final(
    session: Session, pub: Publication, post: Post, state: PublicationState, reason: str | None
) -> None:
    pub.state = state.value
    pub.lease_owner = pub.lease_expires_at = None
    if reason is not None:
        pub.last_error = reason
    session.flush()
    sync_post_status(session, post)


def sync_post_statuses(session: Session, posts: list[Post]) -> None:
    """Derive many posts' statuses from their publications in one query."""
    if not posts:
        return
    by_post: dict[uuid.UUID, list[str]] = {p.id: [] for p in posts}
    for post_id, state in session.execute(
        select(Publication.post_id, Publication.state).where(Publication.post_id.in_(list(by_post)))
    ).all():
        by_post[post_id].append(state)
    for post in posts:
        _derive_status(post, by_post[post.id])


def sync_post_status(session: Session, post: Post) -> None:
    """Derive the post's status from its publications."""
    sync_post_statuses(session, [post])


def _derive_status(post: Post, states: list[str]) -> None:
    new = _status_for(states)
    if new is not None and post.status != new.value:
        post.status = new.value
        post.version += 1


def _status_for(states: list[str]) -> PostStatus | None:
    """A post's status given its publications' states (None without publications)."""
    if not states:
        return None
    active = {s for s in states if s not in {"published", "failed", "missed", "cancelled"}}
    if active:
        new = PostStatus.scheduled
    elif all(s == "cancelled" for s in states):
        new = PostStatus.approved
    elif any(s == "published" for s in states):
        new = PostStatus.published
    elif any(s == "failed" for s in states):
        new = PostStatus.failed
    elif any(s == "missed" for s in states):
        new = PostStatus.missed
    else:
        new = PostStatus.cancelled
    return new
