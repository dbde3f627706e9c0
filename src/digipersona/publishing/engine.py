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

import logging
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Table, bindparam, case, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from digipersona.config import Settings
from digipersona.connections.credentials import credentials_for, refresh_serialised
from digipersona.db import write_scope
from digipersona.interactions.reply_targets import reply_target_for
from digipersona.kit.crypto import TokenCipher
from digipersona.kit.time import ensure_utc, utcnow
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
    MediaItem,
    Provider,
    PublishedPart,
    PublishRequest,
    PublishResult,
)
from digipersona.platforms.factory import build_provider
from digipersona.publishing import metrics, quotas

logger = logging.getLogger("digipersona.engine")

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

    def provider(self, platform: str) -> Provider:
        with self._lock:
            if platform not in self._providers:
                self._providers[platform] = build_provider(platform, self.settings, self.http)
            return self._providers[platform]


# -- claiming ----------------------------------------------------------------------------------
def claim_due(engine: Engine, owner: str, limit: int) -> list[uuid.UUID]:
    """Lease up to ``limit`` due publications to ``owner``; no other claimer can get them."""
    now = engine.clock()
    with write_scope(engine.factory) as session:
        due = (
            select(Publication.id)
            .where(Publication.state.in_(CLAIMABLE), Publication.next_attempt_at <= now)
            .order_by(Publication.priority.desc(), Publication.next_attempt_at, Publication.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        rows = session.execute(
            update(Publication)
            .where(Publication.id.in_(due.scalar_subquery()), Publication.state.in_(CLAIMABLE))
            .values(
                state=PublicationState.claimed.value,
                lease_owner=owner,
                lease_expires_at=now + timedelta(seconds=engine.settings.publish_lease_seconds),
            )
            .returning(Publication.id, Publication.priority, Publication.next_attempt_at)
            .execution_options(synchronize_session=False)
        ).all()
    ordered = sorted(rows, key=lambda r: (-r.priority, r.next_attempt_at))
    return [r.id for r in ordered]


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
    held publications; tokens about to expire are warned about (14, 7, 1 days)."""
    from digipersona.connections.service import check_expiring
    from digipersona.publishing.service import resume_connection

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
    return {"resumed": resumed, "warned": warned}


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
    platform: str
    token_version: int
    reconcile: bool
    request: PublishRequest
    credentials: Any


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


def call_provider(engine: Engine, prepared: _Prepared) -> Outcome:
    """The platform call (no database work unless a token must be refreshed)."""
    provider = engine.provider(prepared.platform)
    started = engine.clock()
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


def prepare_batch(
    engine: Engine, ids: list[uuid.UUID], owner: str
) -> tuple[list[_Prepared], dict[uuid.UUID, str]]:
    """Move claimed rows to ``sending`` in one transaction, or settle them (missed, held,
    deferred for a quota). Returns what to send and the state of the rest."""
    now = engine.clock()
    prepared: list[_Prepared] = []
    states: dict[uuid.UUID, str] = {}
    if not ids:
        return prepared, states
    with write_scope(engine.factory) as session:
        rows = session.execute(
            select(Publication, Connection, Post, Persona)
            .join(Connection, Connection.id == Publication.connection_id)
            .join(Post, Post.id == Publication.post_id)
            .join(Persona, Persona.id == Post.persona_id)
            .where(
                Publication.id.in_(ids),
                Publication.state == PublicationState.claimed.value,
                Publication.lease_owner == owner,
            )
        ).all()
        post_ids = [post.id for _, _, post, _ in rows]
        parts_by = {
            (pid, platform): list(parts)
            for pid, platform, parts in session.execute(
                select(Variant.post_id, Variant.platform, Variant.parts).where(
                    Variant.post_id.in_(post_ids)
                )
            ).all()
        }
        media_post_ids = set(
            session.scalars(select(Media.post_id).where(Media.post_id.in_(post_ids)))
        )
        for pub, connection, post, persona in rows:
            parts = parts_by.get((post.id, pub.platform)) or [post.body]
            state = _admit(session, engine, pub, connection, post, persona, now, parts)
            if state is not None:
                states[pub.id] = state
                continue
            pub.state = PublicationState.sending.value
            pub.attempts += 1
            pub.sent_at = now
            pub.lease_expires_at = now + timedelta(seconds=engine.settings.publish_lease_seconds)
            request = _build_request(
                session,
                engine,
                pub,
                post,
                persona,
                parts_by.get((post.id, pub.platform)),
                with_media=post.id in media_post_ids,
            )
            prepared.append(
                _Prepared(
                    publication_id=pub.id,
                    connection_id=connection.id,
                    platform=pub.platform,
                    token_version=connection.token_version,
                    reconcile=pub.reconcile,
                    request=request,
                    credentials=credentials_for(connection, engine.cipher),
                )
            )
            states[pub.id] = PublicationState.sending.value
    for pid in ids:
        states.setdefault(pid, "lost")
    return prepared, states


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
        f"It was {minutes} minutes late and {persona.name} gives up after "
        f"{persona.max_lateness_minutes} minutes, so it was not posted. Reschedule it if it is "
        "still relevant."
    )


def _hold(pub: Publication, reason: str) -> None:
    pub.state = PublicationState.held.value
    pub.lease_owner = pub.lease_expires_at = None
    pub.last_error = reason


def _build_request(
    session: Session,
    engine: Engine,
    pub: Publication,
    post: Post,
    persona: Persona,
    variant_parts: list[str] | None,
    *,
    with_media: bool,
) -> PublishRequest:
    parts = variant_parts or [post.body]
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
                select(Media).where(Media.post_id == post.id).order_by(Media.position)
            )
        ]
    already = [
        PublishedPart(
            index=int(p["index"]),
            external_id=str(p["external_id"]),
            url=p.get("url"),
            extra=p.get("extra") or {},
        )
        for p in pub.parts_published
    ]
    publication_id, owner = pub.id, pub.lease_owner

    def on_part(part: PublishedPart) -> None:
        _save_part(engine, publication_id, owner, part)

    return PublishRequest(
        parts=parts,
        idempotency_key=pub.idempotency_key,
        created_at=ensure_utc(pub.created_at),
        media=media,
        link=post.link_url,
        language=persona.language,
        reply_to=reply_target_for(session, post.id),
        already_published=already,
        on_part_published=on_part if len(parts) > 1 else None,
        document={
            "post_id": str(post.id),
            "publication_id": str(pub.id),
            "persona": {"id": str(persona.id), "name": persona.name},
            "platform": pub.platform,
            "body": post.body,
            "parts": parts,
            "link": post.link_url,
            "tags": list(post.tags),
            "scheduled_at": ensure_utc(pub.scheduled_at).isoformat(),
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
    """Write many results in one transaction; returns each publication's new state.

    Successes (the common case) are one executemany UPDATE; failures take the ORM path.
    """
    now = engine.clock()
    states: dict[uuid.UUID, str] = {}
    if not outcomes:
        return states
    successes = [(p, o) for p, o in outcomes if isinstance(o, PublishResult)]
    failures = [(p, o) for p, o in outcomes if not isinstance(o, PublishResult)]
    with write_scope(engine.factory) as session:
        touched: set[uuid.UUID] = set()
        if successes:
            rows = session.execute(
                select(
                    Publication.id,
                    Publication.post_id,
                    Publication.platform,
                    Publication.scheduled_at,
                ).where(Publication.id.in_([p.publication_id for p, _ in successes]))
            ).all()
            known = {r.id: r for r in rows}
            params = []
            for prepared, result in successes:
                row = known.get(prepared.publication_id)
                if row is None:
                    states[prepared.publication_id] = "lost"
                    continue
                assert isinstance(result, PublishResult)
                params.append(
                    {
                        "pid": row.id,
                        "eid": result.external_id,
                        "url": result.url,
                        "parts": [_part_dict(p) for p in result.parts] if result.parts else None,
                    }
                )
                touched.add(row.post_id)
                states[row.id] = PublicationState.published.value
                metrics.PUBLICATIONS.labels(row.platform, "published").inc()
                metrics.LATENESS.labels(row.platform).observe(
                    max(0.0, (now - ensure_utc(row.scheduled_at)).total_seconds())
                )
            with_parts = [p for p in params if p["parts"] is not None]
            without = [p for p in params if p["parts"] is None]
            # Success is the truth whoever holds the lease now: recorded unconditionally.
            common = {
                "external_id": bindparam("eid"),
                "external_url": bindparam("url"),
                "published_at": now,
                "reconcile": False,
                "last_error": None,
                "error_class": None,
                "state": PublicationState.published.value,
                "lease_owner": None,
                "lease_expires_at": None,
                "updated_at": now,
            }
            table = Publication.__table__
            assert isinstance(table, Table)
            if with_parts:
                session.execute(
                    update(table)
                    .where(table.c.id == bindparam("pid"))
                    .values(**common, parts_published=bindparam("parts")),
                    with_parts,
                )
            if without:
                session.execute(
                    update(table).where(table.c.id == bindparam("pid")).values(**common),
                    [{k: v for k, v in p.items() if k != "parts"} for p in without],
                )
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
                assert isinstance(outcome, errors.PlatformError)
                states[pub.id] = _apply_failure(
                    session, engine, pub, posts[pub.post_id], outcome, owner, now
                )
            session.flush()
        if touched:
            session.expire_all()
            sync_post_statuses(
                session, list(session.scalars(select(Post).where(Post.id.in_(touched))))
            )
    return states


def _apply_success(pub: Publication, result: PublishResult, now: datetime) -> str:
    # Success is the truth whoever holds the lease now: record it unconditionally.
    pub.external_id = result.external_id
    pub.external_url = result.url
    if result.parts:
        pub.parts_published = [_part_dict(p) for p in result.parts]
    pub.published_at = now
    pub.reconcile = False
    pub.last_error = None
    pub.error_class = None
    pub.state = PublicationState.published.value
    pub.lease_owner = pub.lease_expires_at = None
    metrics.PUBLICATIONS.labels(pub.platform, "published").inc()
    metrics.LATENESS.labels(pub.platform).observe(
        max(0.0, (now - ensure_utc(pub.scheduled_at)).total_seconds())
    )
    return PublicationState.published.value


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
        reason = f"Gave up after {pub.attempts} attempts: {exc.message}"
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
    if not states:
        return
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
    if post.status != new.value:
        post.status = new.value
        post.version += 1
