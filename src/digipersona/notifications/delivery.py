"""Out-of-band delivery of notifications (email, webhook, Web Push), after commit, off-thread.

``notify`` queues one callback per channel on the session's ``after_commit`` list; each callback
hands the slow work to a small thread pool, so neither the request nor the publishing worker
waits for an SMTP server or a webhook receiver. A failing channel is logged (never with a
secret or a URL, which may carry one) and affects nothing else.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from digipersona.config import Settings
from digipersona.kit.crypto import TokenCipher

logger = logging.getLogger("digipersona.notifications")

URLS = {
    "approval.requested": "/approvals",
    "publication.failed": "/jobs",
    "publication.missed": "/jobs",
    "connection.expiring": "/connections",
    "connection.paused": "/connections",
    "connection.expired": "/connections",
    "interaction.lead": "/interactions",
}


@dataclass(frozen=True)
class Event:
    """One notification event, as every channel sends it."""

    id: uuid.UUID
    workspace_id: uuid.UUID
    workspace_name: str
    kind: str
    title: str
    body: str
    created_at: datetime
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return URLS.get(self.kind, "/dashboard")


@dataclass
class Config:
    settings: Settings
    factory: sessionmaker[Session]
    cipher: TokenCipher


_lock = threading.Lock()
_state: dict[str, Any] = {"config": None, "executor": None}
_pending: set[Future[None]] = set()


def configure(settings: Settings, factory: sessionmaker[Session], cipher: TokenCipher) -> None:
    """Enable out-of-band delivery for this process (the app and the worker runtime do it)."""
    with _lock:
        _state["config"] = Config(settings=settings, factory=factory, cipher=cipher)
        if _state["executor"] is None:
            _state["executor"] = ThreadPoolExecutor(max_workers=2, thread_name_prefix="notify")


def config() -> Config | None:
    value: Config | None = _state["config"]
    return value


def submit(channel: str, work: Callable[[], object]) -> None:
    """Run ``work`` on the delivery pool; a failure is logged with its type, never raised."""

    def run() -> None:
        try:
            work()
        except Exception as exc:
            logger.warning("notification delivery by %s failed: %s", channel, type(exc).__name__)

    with _lock:
        executor: ThreadPoolExecutor | None = _state["executor"]
        if executor is None:
            logger.info("notification delivery by %s skipped: not configured", channel)
            return
        future = executor.submit(run)
        _pending.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future[None]) -> None:
    with _lock:
        _pending.discard(future)


def drain(timeout: float = 15.0) -> bool:
    """Wait until every queued delivery ran (tests, and a clean shutdown); True if all did."""
    with _lock:
        pending = set(_pending)
    if not pending:
        return True
    _done, not_done = wait(pending, timeout=timeout)
    return not not_done
