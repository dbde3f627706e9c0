"""Engine, sessions and migrations.

SQLite (embedded) runs in WAL mode with foreign keys on and a busy timeout, so the web threads
and the worker threads can share one file. The request dependency owns commit/rollback
(CONVENTIONS.md rule 2): services only ``flush``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar, Token
from pathlib import Path
from typing import IO, Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import URL, Engine, create_engine, event, make_url, text
from sqlalchemy.orm import Session, sessionmaker

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# SQLite's page cache per connection, in MiB (SQLite's own default is 2). Each pooled connection
# grows its cache up to this as it reads: 15 connections at 64 MiB took a loaded server from
# 220 MiB to 2.9 GiB resident. Requests read bounded pages of rows, so a small cache serves them
# (the OS page cache holds the file); the dispatcher's engine asks for more (see the settings).
DEFAULT_SQLITE_CACHE_MIB = 8
# Connections per engine on SQLite: one writer at a time, readers in parallel, two cores.
SQLITE_POOL_SIZE = 5
SQLITE_MAX_OVERFLOW = 5


def make_engine(
    url: str, *, sqlite_cache_mib: int = DEFAULT_SQLITE_CACHE_MIB, **kwargs: Any
) -> Engine:
    """Create an engine with the right per-backend settings (``kwargs`` go to SQLAlchemy)."""
    if url.startswith("sqlite"):
        if sqlite_file(url) is not None:
            kwargs.setdefault("pool_size", SQLITE_POOL_SIZE)
            kwargs.setdefault("max_overflow", SQLITE_MAX_OVERFLOW)
        else:  # in memory: one connection per thread (SingletonThreadPool), no queue to size
            for option in ("pool_size", "max_overflow", "pool_timeout"):
                kwargs.pop(option, None)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_pre_ping=False,
            # Most recently used connection first: its page cache is the warm one.
            pool_use_lifo=True,
            **kwargs,
        )
        cache_pragma = f"PRAGMA cache_size=-{int(sqlite_cache_mib) * 1024}"

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy issue BEGIN itself (IMMEDIATE where we ask) instead of pysqlite.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # FULL: every commit is on disk before it returns. With NORMAL a power cut may undo
            # the last commits, among them a publication's move to ``sending`` made just before
            # its platform call: after the restart it would be sent again, unreconciled.
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute(cache_pragma)
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Writers that read-then-write (claims, quota counters) take the write lock up
            # front with BEGIN IMMEDIATE, so two processes can never interleave them.
            immediate = conn.get_execution_options().get("sqlite_immediate")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    # Two cores serve this many queries at once; more connections only hold more result rows
    # in memory at the same time.
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def sqlite_file(url: str | URL) -> str | None:
    """The database file of a SQLite URL; None for other backends and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


def sqlite_snapshot(source: str, copy: Path) -> str | None:
    """Copy a live SQLite database to ``copy`` in one read transaction; its Alembic revision.

    Raises ``sqlite3.Error`` when either file cannot be read or written.
    """
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(copy)
    try:
        src.backup(dst)  # pages=-1: everything at once, so concurrent writes cannot restart it
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        row = dst.execute("SELECT version_num FROM alembic_version").fetchone()
    finally:
        dst.close()
        src.close()
    return str(row[0]) if row else None


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=True)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any exception."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    run_after_commit(session)


def run_after_commit(session: Session) -> None:
    """Run callbacks a service queued for after a successful commit (e.g. wake the dispatcher)."""
    for callback in session.info.pop("after_commit", []):
        callback()


@contextmanager
def write_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work that holds the database write lock from its start (SQLite IMMEDIATE).

    On a SQLite file, writers first wait in line: first come, first served among the threads
    of this process (``_WritersLine``), then on a lock file beside the database against other
    processes. The kernel hands that lock to a waiter the moment it is released, whereas
    SQLite's busy handler sleeps in steps of up to 100 ms: with two dispatcher processes, each
    spent most of a burst asleep waiting for a lock the other had long released. But the
    kernel picks any waiter, not the first: a draft waited behind writers that came after it
    (p99 30 times p50), hence the line in front. A scope nested in another (same thread and
    context; SQLite itself would make it wait for the outer one) does not queue again.
    """
    session = factory()
    turn = _queue_for_writes(session)
    try:
        if session.get_bind().dialect.name == "sqlite":
            session.connection(execution_options={"sqlite_immediate": True})
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        if turn is not None:
            turn.release()
    run_after_commit(session)


class _WritersLine:
    """A first-come-first-served lock: the turn passes to the longest-waiting thread."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._busy = False
        self._waiting: deque[threading.Event] = deque()

    def enter(self) -> None:
        """Wait for this thread's turn."""
        with self._mutex:
            if not self._busy:
                self._busy = True
                return
            called = threading.Event()
            self._waiting.append(called)
        try:
            called.wait()
        except BaseException:
            with self._mutex:
                if called in self._waiting:  # still in line: just leave it
                    self._waiting.remove(called)
                    raise
            self.leave()  # the turn came as we gave up: pass it on
            raise

    def waiting(self) -> int:
        """How many threads wait in line."""
        with self._mutex:
            return len(self._waiting)

    def leave(self) -> None:
        """Hand the turn to the next in line (it stays busy), or free it."""
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._busy = False


_lines: dict[str, _WritersLine] = {}
_lines_mutex = threading.Lock()
# The lock files held by the unit of work running here. A context variable, not a thread-local:
# FastAPI enters a request's session in one threadpool thread and leaves it in another, so a
# thread-local stayed marked "holding" in the first thread, and the next request served there
# skipped the line and waited in SQLite's busy handler instead (sleeps of up to 100 ms: the
# p99 of a draft creation was 30 times its p50). Each threadpool call runs in a copy of its
# request's context, so nothing leaks from one request to another.
_held: ContextVar[frozenset[str]] = ContextVar("digipersona_writers_held", default=frozenset())


def _line_for(path: str) -> _WritersLine:
    with _lines_mutex:
        return _lines.setdefault(path, _WritersLine())


class _Turn:
    """A writer's turn on one SQLite file: its place in this process's line and the file lock."""

    def __init__(
        self, path: str, line: _WritersLine, handle: IO[bytes], marked: Token[frozenset[str]]
    ) -> None:
        self.path, self.line, self.handle, self.marked = path, line, handle, marked

    def release(self) -> None:
        # Left in another context (another threadpool call), the mark ends with the one that
        # set it.
        with suppress(ValueError):
            _held.reset(self.marked)
        self.handle.close()  # releases the lock for other processes
        self.line.leave()


def _queue_for_writes(session: Session) -> _Turn | None:
    """Wait for the SQLite file's writers' turn (``<database>-writers.lock``); None elsewhere."""
    database = sqlite_file(session.get_bind().engine.url)
    if fcntl is None or database is None:
        return None
    path = f"{database}-writers.lock"
    if path in _held.get():
        return None
    line = _line_for(path)
    line.enter()
    try:
        # One open file per turn: flock excludes other open files, other processes' too.
        handle = open(path, "ab")  # noqa: SIM115 - closed when the turn ends
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        except BaseException:
            handle.close()
            raise
    except BaseException:
        line.leave()
        raise
    return _Turn(path, line, handle, _held.set(_held.get() | {path}))


def get_session(request: Request) -> Iterator[Session]:
    """Request-scoped session: commit if the endpoint returned, roll back if it raised.

    State-changing requests take SQLite's write lock up front (BEGIN IMMEDIATE): a deferred
    transaction that reads and then writes fails at once with "database is locked" when the
    dispatcher committed in between, instead of waiting its turn.
    """
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    scope = write_scope if request.method in {"POST", "PUT", "PATCH", "DELETE"} else session_scope
    with scope(factory) as session:
        yield session


# scope="function": the commit happens before the response is sent. (By default FastAPI runs a
# yield dependency's exit after sending, so a browser following a redirect could read the
# database before the write that redirected it was committed, e.g. a fresh registration
# bounced to the login page.) A failing commit is then an error answer, never a false success.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_sessionmaker(request: Request) -> sessionmaker[Session]:
    """The app's session factory, for endpoints that open their own short units of work.

    An endpoint that waits on something slow (an AI provider) takes this instead of
    ``SessionDep``: a request-long ``write_scope`` would hold SQLite's write lock all that time.
    """
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    return factory


FactoryDep = Annotated[sessionmaker[Session], Depends(get_sessionmaker)]


# -- migrations ------------------------------------------------------------------------------
def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def known_revisions() -> set[str]:
    """Every migration revision this code ships."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return {script.revision for script in scripts.walk_revisions()}


def unknown_revision(engine: Engine) -> str | None:
    """The database's revision when this code does not know it (a newer version migrated it),
    else None (also for a database with no schema yet)."""
    current = current_revision(engine)
    if current is None or current in known_revisions():
        return None
    return current


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
