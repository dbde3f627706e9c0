"""Per-process runtime: settings, database, cipher and HTTP client shared by jobs."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import httpx
from sqlalchemy import Engine as SAEngine
from sqlalchemy.orm import Session, sessionmaker

from digipersona import db
from digipersona.config import Settings, get_settings
from digipersona.kit.crypto import TokenCipher
from digipersona.kit.http import make_http_client
from digipersona.notifications import delivery
from digipersona.platforms.registry import load_plugins
from digipersona.publishing.engine import PublishingEngine


@dataclass
class Runtime:
    settings: Settings
    sa_engine: SAEngine
    factory: sessionmaker[Session]
    cipher: TokenCipher
    http: httpx.Client
    engine: PublishingEngine

    def close(self) -> None:
        self.http.close()
        self.sa_engine.dispose()


def build_runtime(
    settings: Settings,
    *,
    factory: sessionmaker[Session] | None = None,
    http: httpx.Client | None = None,
) -> Runtime:
    """Wire the engine from settings (or from an app's existing session factory)."""
    load_plugins(settings.provider_plugins)
    cipher = TokenCipher(settings.encryption_key_list())
    if factory is None:
        sa_engine = db.make_engine(
            settings.effective_database_url, sqlite_cache_mib=settings.dispatch_sqlite_cache_mib
        )
        factory = db.make_sessionmaker(sa_engine)
        # A worker process of its own (Celery): notifications it raises are delivered from here.
        delivery.configure(settings, factory, cipher)
    else:
        bind = factory.kw["bind"]
        assert isinstance(bind, SAEngine)
        sa_engine = bind
    client = http or make_http_client(settings.platform_timeout_seconds)
    engine = PublishingEngine(settings=settings, factory=factory, cipher=cipher, http=client)
    return Runtime(settings, sa_engine, factory, cipher, client, engine)


_current: Runtime | None = None
_lock = threading.Lock()


def set_runtime(runtime: Runtime | None) -> None:
    global _current
    with _lock:
        _current = runtime


def current() -> Runtime:
    """The process runtime, built from the environment on first use (Celery workers)."""
    global _current
    with _lock:
        if _current is None:
            _current = build_runtime(get_settings())
        return _current
