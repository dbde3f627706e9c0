"""The publishing engine: claim due publications, publish them once, retry by error class.

Guarantees (DESIGN.md "Publishing guarantees"), and where they are kept:

1. Due work is claimed atomically with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, one
   ``BEGIN IMMEDIATE`` writer on SQLite), in priority then time order (``claim.py``).
2. Nothing is posted twice: a worker moves its row ``claimed -> sending`` only while it holds
   the lease (``prepare.py``); a ``sending`` row whose lease expires (worker killed) becomes
   ``unknown`` and is *reconciled* through ``Provider.lookup`` before any new attempt.
3. Retries follow the error class (``platforms/errors.py``, ``retry.py``).
4. Quotas are counted in the database before sending (``platforms/quotas.py``).
5. A paused connection holds its publications (state ``held``); reconnecting resumes them.

This module holds the engine's process state (``PublishingEngine``) and its entry points: the
dispatcher's ``cycle``, ``execute``/``execute_batch`` for Celery, the platform call, and the
slow housekeeping. The SQL is in ``repository.py``.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy.orm import Session, sessionmaker

from digipersona.config import Settings
from digipersona.connections.credentials import call_with_refresh
from digipersona.connections.service import check_expiring, resume_connection
from digipersona.db import write_scope
from digipersona.kit.crypto import TokenCipher
from digipersona.kit.time import utcnow
from digipersona.models import ConnectionState
from digipersona.platforms import errors
from digipersona.platforms.base import Credentials, Provider, PublishResult
from digipersona.platforms.factory import build_provider
from digipersona.publishing import metrics, repository
from digipersona.publishing.claim import claim_due, next_due_at, release_expired
from digipersona.publishing.prepare import Prepared, prepare, prepare_batch
from digipersona.publishing.record import Outcome, record, record_outcomes

__all__ = [
    "Outcome",
    "Prepared",
    "PublishingEngine",
    "beat",
    "call_provider",
    "claim_due",
    "cycle",
    "execute",
    "execute_batch",
    "next_due_at",
    "periodic_checks",
    "prepare_batch",
    "record_outcomes",
    "release_expired",
]

logger = logging.getLogger("digipersona.engine")

# Heartbeats of processes silent this long are deleted (the Jobs page shows a day of them).
HEARTBEAT_KEEP = timedelta(days=7)
# Decrypted tokens kept per process (``PublishingEngine.decrypt``) before the memo starts over.
_PLAIN_KEPT = 4096


@dataclass
class PublishingEngine:
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
            if len(self._plain) >= _PLAIN_KEPT:
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


# -- the dispatcher's round ---------------------------------------------------------------------
def cycle(
    engine: PublishingEngine, owner: str, finished: list[tuple[Prepared, Outcome]], limit: int
) -> tuple[dict[uuid.UUID, str], list[Prepared], dict[uuid.UUID, str]]:
    """One round of the embedded dispatcher in one transaction: record ``finished`` outcomes,
    claim up to ``limit`` due publications and prepare them (the steps of ``record_outcomes``,
    ``claim_due`` and ``prepare_batch``). Returns the recorded states, what to send, and the
    state of every claimed publication."""
    now = engine.clock()
    prepared: list[Prepared] = []
    states: dict[uuid.UUID, str] = {}
    with write_scope(engine.factory) as session:
        recorded = record(session, engine, finished, owner, now) if finished else {}
        if limit > 0:
            # Claimed and prepared by one statement: the due ids are picked (on PostgreSQL
            # locked, skipping rows another scheduler holds) inside the SELECT that reads what
            # sending needs, and the rows go straight to ``sending`` (or are settled) without
            # the intermediate ``claimed`` write.
            prepared, states = prepare(session, engine, owner, now, limit=limit)
    return recorded, prepared, states


# -- Celery's path: claimed by the scheduler, executed by a worker --------------------------------
def execute(engine: PublishingEngine, publication_id: uuid.UUID, owner: str) -> str:
    """Publish one claimed publication; returns the state it ended in (for tests and logs).

    Safe to call twice: only the lease holder moves a row to ``sending``.
    """
    prepared, states = prepare_batch(engine, [publication_id], owner)
    if not prepared:
        return states.get(publication_id, "lost")
    outcome = call_provider(engine, prepared[0])
    return record_outcomes(engine, [(prepared[0], outcome)], owner)[publication_id]


def execute_batch(
    engine: PublishingEngine, publication_ids: list[uuid.UUID], owner: str
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


# -- the platform call ---------------------------------------------------------------------------
def call_provider(engine: PublishingEngine, prepared: Prepared) -> Outcome:
    """The platform call (no database work unless a token must be refreshed)."""
    provider = engine.provider(prepared.platform)
    started = engine.clock()
    if started > prepared.send_by:
        return errors.Transient(
            "Not sent: it waited too long in this worker's queue (its lease could run out "
            "during the call); it goes back to the queue.",
            platform=prepared.platform,
        )

    def send(credentials: Credentials) -> PublishResult:
        # A publication that may have been sent is looked up first (reconciliation).
        result = provider.lookup(credentials, prepared.request) if prepared.reconcile else None
        return result if result is not None else provider.publish(credentials, prepared.request)

    try:
        result, _credentials = call_with_refresh(
            engine.factory,
            engine.cipher,
            provider,
            connection_id=prepared.connection_id,
            token_version=prepared.token_version,
            credentials=prepared.credentials,
            call=send,
        )
    except errors.PlatformError as exc:
        metrics.observe_attempt(prepared.platform, type(exc).__name__, engine.clock() - started)
        return exc
    except Exception as exc:  # a bug or an unmapped library error: it may have posted
        logger.exception("unexpected error publishing %s", prepared.publication_id)
        metrics.observe_attempt(prepared.platform, "Unexpected", engine.clock() - started)
        return errors.UnknownOutcome(f"Unexpected error: {type(exc).__name__}")
    metrics.observe_attempt(prepared.platform, "ok", engine.clock() - started)
    return result


# -- housekeeping --------------------------------------------------------------------------------
def periodic_checks(engine: PublishingEngine) -> dict[str, int]:
    """Slow housekeeping (about once a minute): connections whose pause ended resume their
    held publications; tokens about to expire are warned about (14, 7, 1 days); heartbeats of
    long-gone processes are dropped."""
    now = engine.clock()
    resumed = 0
    with write_scope(engine.factory) as session:
        for connection in repository.pauses_ended(session, now):
            connection.state = ConnectionState.active.value
            connection.state_reason = None
            connection.paused_until = None
            session.flush()
            resumed += resume_connection(session, connection, now)
        warned = check_expiring(session, now)
        # Every process start beats under a new name: forget those silent for a week.
        forgotten = repository.forget_heartbeats(session, now - HEARTBEAT_KEEP)
    return {"resumed": resumed, "warned": warned, "forgotten": forgotten}


def beat(engine: PublishingEngine, name: str, kind: str) -> None:
    """Record that a scheduler or worker is alive."""
    now = engine.clock()
    with write_scope(engine.factory) as session:
        repository.beat(session, name, kind, now)
