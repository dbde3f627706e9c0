"""Preparing claimed publications: admit them (lateness, held connection, quota, budget), move
the admitted ones to ``sending`` and build their publish requests, in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from digipersona.connections.credentials import credentials_for
from digipersona.db import write_scope
from digipersona.kit.time import ensure_utc
from digipersona.models import (
    Connection,
    ConnectionState,
    Persona,
    Post,
    Publication,
    PublicationState,
)
from digipersona.notifications.service import notify
from digipersona.platforms import quotas
from digipersona.platforms.base import Credentials, MediaItem, PublishedPart, PublishRequest
from digipersona.publishing import metrics, repository
from digipersona.publishing.reply_targets import to_reply_target
from digipersona.publishing.settle import HOLD_STATES, hold, late_message, pause, set_final

if TYPE_CHECKING:
    from digipersona.publishing.engine import PublishingEngine

# An ORM publication with what admitting it needs.
_Admission = tuple[Publication, Connection, Post, Persona]


@dataclass
class Prepared:
    """A publication in ``sending``, with everything its platform call needs."""

    publication_id: uuid.UUID
    connection_id: uuid.UUID
    post_id: uuid.UUID
    platform: str
    scheduled_at: datetime
    token_version: int
    reconcile: bool
    request: PublishRequest
    credentials: Credentials
    # A prepared publication waits in a local queue (the embedded pool) before it is sent. Its
    # lease must outlast the platform call, or an expired lease sends it to reconciliation
    # while this copy is still about to publish: a post left waiting past ``send_by`` (half
    # the lease) is not sent at all.
    send_by: datetime


def prepare_batch(
    engine: PublishingEngine, ids: list[uuid.UUID], owner: str
) -> tuple[list[Prepared], dict[uuid.UUID, str]]:
    """Move claimed rows to ``sending`` in one transaction, or settle them (missed, held,
    deferred for a quota). Returns what to send and the state of the rest."""
    if not ids:
        return [], {}
    now = engine.clock()
    with write_scope(engine.factory) as session:
        return prepare(session, engine, owner, now, ids=ids)


def prepare(
    session: Session,
    engine: PublishingEngine,
    owner: str,
    now: datetime,
    *,
    ids: list[uuid.UUID] | None = None,
    limit: int = 0,
) -> tuple[list[Prepared], dict[uuid.UUID, str]]:
    """``prepare_batch`` inside a transaction: ``ids`` are rows claimed by ``owner``. Without
    ``ids``, up to ``limit`` due rows are claimed by the same statement (``cycle``).

    The common case (on time, connection active, no spend budget) is two Core statements for
    the whole batch; publications that must be settled otherwise (missed, held, budget) take
    the ORM path through ``_admit``.
    """
    rows = _rows(session, owner, now, ids, limit)
    if ids is None:
        ids = [row.id for row in rows]
    if not rows:
        return [], dict.fromkeys(ids, "lost")
    parts_of = {row.id: list(row.variant_parts or ()) or [row.body] for row in rows}
    sending, states = _admit_all(session, engine, rows, parts_of, now)
    prepared = _start_sending(session, engine, sending, parts_of, owner, now)
    states.update((row.id, PublicationState.sending.value) for row in sending)
    for pid in ids:
        states.setdefault(pid, "lost")
    return prepared, states


def _rows(
    session: Session, owner: str, now: datetime, ids: list[uuid.UUID] | None, limit: int
) -> list[Any]:
    """The rows to prepare: claimed now (``ids`` None) or already claimed by ``owner``."""
    if ids is None:
        return repository.due_rows(session, now, limit)
    if ids:
        return repository.claimed_rows(session, ids, owner)
    return []


def _admit_all(
    session: Session,
    engine: PublishingEngine,
    rows: list[Any],
    parts_of: dict[uuid.UUID, list[str]],
    now: datetime,
) -> tuple[list[Any], dict[uuid.UUID, str]]:
    """Split the rows into those to send and those settled otherwise (with their state)."""
    slow = [row.id for row in rows if _needs_orm(engine, row, parts_of[row.id], now)]
    orm = repository.for_admission(session, slow) if slow else {}
    rules: dict[str, list[quotas.QuotaRule]] = {}
    sending: list[Any] = []
    states: dict[uuid.UUID, str] = {}
    for row in rows:
        if row.platform not in rules:
            rules[row.platform] = quotas.rules_for(row.platform, engine.settings)
        if row.id in orm:
            state = _admit(session, engine, orm[row.id], rules[row.platform], now, parts_of[row.id])
        else:
            state = _consume_quota(session, rules[row.platform], row, now)
        if state is not None:
            states[row.id] = state
        else:
            sending.append(row)
    return sending, states


def _start_sending(
    session: Session,
    engine: PublishingEngine,
    sending: list[Any],
    parts_of: dict[uuid.UUID, list[str]],
    owner: str,
    now: datetime,
) -> list[Prepared]:
    """Lease the admitted rows as ``sending`` and build what their platform calls need."""
    if not sending:
        return []
    lease = now + timedelta(seconds=engine.settings.publish_lease_seconds)
    repository.mark_sending(session, [row.id for row in sending], owner, now, lease)
    tokens = repository.connection_tokens(session, {row.connection_id for row in sending})
    # Decrypting each distinct ciphertext once per process (``PublishingEngine.decrypt``).
    credentials = {cid: credentials_for(row, engine) for cid, row in tokens.items()}
    send_by = now + timedelta(seconds=engine.settings.publish_lease_seconds / 2)
    return [
        Prepared(
            publication_id=row.id,
            connection_id=row.connection_id,
            post_id=row.post_id,
            platform=row.platform,
            scheduled_at=row.scheduled_at,
            token_version=tokens[row.connection_id].token_version,
            reconcile=row.reconcile,
            request=_build_request(
                session, engine, row, parts_of[row.id], owner=owner, with_media=row.has_media
            ),
            credentials=credentials[row.connection_id],
            send_by=send_by,
        )
        for row in sending
    ]


# -- admission ---------------------------------------------------------------------------------
def _fresh(row: Any) -> bool:
    """Nothing of it may have been sent yet (not reconciling, no thread part published)."""
    return not row.reconcile and not row.parts_published


def _needs_orm(engine: PublishingEngine, row: Any, parts: list[str], now: datetime) -> bool:
    """True when the publication may not simply be sent: it is too late, its connection is
    held, or it costs money against a budget (all settled by ``_admit`` on ORM objects)."""
    fresh = _fresh(row)
    if fresh and now - row.scheduled_at > timedelta(minutes=row.max_lateness_minutes):
        return True
    if row.connection_state in HOLD_STATES or (row.paused_until and row.paused_until > now):
        return True
    return fresh and engine.provider(row.platform).estimate_cost_usd(parts) > 0


def _consume_quota(
    session: Session, rules: list[quotas.QuotaRule], row: Any, now: datetime
) -> str | None:
    """Count a fresh publication against its platform's quotas: None if it may be sent, else
    it goes back to the queue until the window ends ("deferred")."""
    if not _fresh(row) or not rules:
        return None
    try:
        quotas.consume(
            session, rules, platform=row.platform, connection_id=row.connection_id, now=now
        )
    except quotas.QuotaExceeded as exc:
        reason = f"Waiting for the {exc.rule.name} quota window to reset."
        repository.defer(session, row.id, exc.retry_at, reason, now)
        return "deferred"
    return None


def _admit(
    session: Session,
    engine: PublishingEngine,
    admission: _Admission,
    rules: list[quotas.QuotaRule],
    now: datetime,
    parts: list[str],
) -> str | None:
    """None if the publication may be sent now; otherwise settle it and say how."""
    pub, connection, post, persona = admission
    late = now - ensure_utc(pub.scheduled_at)
    if _fresh(pub) and late > timedelta(minutes=persona.max_lateness_minutes):
        _miss(session, pub, post, persona, late)
        return PublicationState.missed.value
    paused_until = ensure_utc(connection.paused_until) if connection.paused_until else None
    if connection.state in HOLD_STATES or (paused_until and paused_until > now):
        hold(pub, connection.state_reason or f"The connection is {connection.state}.")
        return PublicationState.held.value
    if not _fresh(pub):
        return None
    deferred = _consume_quota(session, rules, pub, now)
    if deferred is not None:
        return deferred
    if not _within_budget(session, engine, pub, connection, parts, now):
        return PublicationState.held.value
    return None


def _miss(
    session: Session, pub: Publication, post: Post, persona: Persona, late: timedelta
) -> None:
    set_final(session, pub, post, PublicationState.missed, late_message(late, persona))
    notify(
        session,
        workspace_id=pub.workspace_id,
        kind="publication.missed",
        title=f"Missed: a {pub.platform} post of {persona.name} was not sent",
        body=pub.last_error or "",
        data={"publication_id": str(pub.id), "post_id": str(post.id)},
    )
    metrics.PUBLICATIONS.labels(pub.platform, "missed").inc()


def _within_budget(
    session: Session,
    engine: PublishingEngine,
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
        pause(session, connection, ConnectionState.paused, reason, until=next_month)
        hold(pub, reason)
        return False
    connection.spend_month = month
    connection.spend_usd = round(spent + cost, 4)
    return True


# -- the request -------------------------------------------------------------------------------
def _build_request(
    session: Session,
    engine: PublishingEngine,
    row: Any,
    parts: list[str],
    *,
    owner: str,
    with_media: bool,
) -> PublishRequest:
    """The PublishRequest of one publication, from its prepared row."""
    media = _media(session, row.post_id) if with_media else []
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
        save_part(engine, publication_id, owner, part)

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


def _media(session: Session, post_id: uuid.UUID) -> list[MediaItem]:
    return [
        MediaItem(
            data=m.data,
            mime_type=m.mime_type,
            alt_text=m.alt_text,
            width=m.width,
            height=m.height,
            filename=m.filename,
        )
        for m in repository.media_of(session, post_id)
    ]


def save_part(
    engine: PublishingEngine, publication_id: uuid.UUID, owner: str | None, part: PublishedPart
) -> None:
    """Persist thread progress before the next part is sent, and extend the lease."""
    now = engine.clock()
    with write_scope(engine.factory) as session:
        pub = repository.lock_publication(session, publication_id)
        if pub is None:
            return
        done = [p for p in pub.parts_published if int(p["index"]) != part.index]
        done.append(part_dict(part))
        pub.parts_published = sorted(done, key=lambda p: int(p["index"]))
        if pub.state == PublicationState.sending.value and pub.lease_owner == owner:
            pub.lease_expires_at = now + timedelta(seconds=engine.settings.publish_lease_seconds)


def part_dict(part: PublishedPart) -> dict[str, Any]:
    """A published thread part as stored in ``Publication.parts_published``."""
    return {
        "index": part.index,
        "external_id": part.external_id,
        "url": part.url,
        "extra": dict(part.extra),
    }
