"""Shared fixtures: database backends (SQLite and real PostgreSQL), the app, named actors.

Every test that uses ``app``/``client``/``session_factory`` runs once per backend. PostgreSQL and
Redis are real servers (127.0.0.1:5432 / :6379); where they are absent those tests skip with a
one-line reason, and with ``DIGIPERSONA_REQUIRE_PEERS=1`` (set by .ci/run) any such skip fails
the run.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from digipersona import db
from digipersona.config import Settings, get_settings
from digipersona.kit import security
from digipersona.models import Base

PG_ADMIN_URL = os.environ.get(
    "DIGIPERSONA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("DIGIPERSONA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PEER_MARKERS = (
    "postgres",
    "redis",
    "pds",
    "browser",
    "tool",
    "prometheus",
    "llm",
    "mcp_inspector",
)
PASSWORD = "correct horse 42"

# Argon2 at full cost makes every registration ~80 ms; tests use cheap parameters.
security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


# -- peers: skip where absent, fail in CI ------------------------------------------------------
_skipped_peers: list[str] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.skipped and any(item.get_closest_marker(m) for m in PEER_MARKERS):
        _skipped_peers.append(item.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("DIGIPERSONA_REQUIRE_PEERS") == "1" and _skipped_peers:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"DIGIPERSONA_REQUIRE_PEERS=1 but {len(_skipped_peers)} test(s) needing a real "
                f"peer were skipped, e.g. {_skipped_peers[0]}",
                red=True,
            )
        session.exitstatus = 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("backend") == "postgresql":
            item.add_marker(pytest.mark.postgres)


# -- databases -----------------------------------------------------------------------------------
def _stamp_head(engine: Engine) -> None:
    head = db.head_revision()
    with engine.begin() as conn:
        conn.execute(
            text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL)")
        )
        conn.execute(text("DELETE FROM alembic_version"))
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head})


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (schema from the models)."""
    import sqlalchemy as sa

    try:
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}")
    name = f"dp_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        # Tests never survive a PostgreSQL crash, so commits need not wait for the disk.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    engine = db.make_engine(url)
    Base.metadata.create_all(engine)
    _stamp_head(engine)
    engine.dispose()
    try:
        yield url
    finally:
        _cleanup_engines.pop(url, None)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


_cleanup_engines: dict[str, Engine] = {}


def _truncate_pg(url: str) -> None:
    """Empty every table of the test database (``TRUNCATE``: a ``DELETE`` leaves dead rows
    whose statistics changed the plans the index tests look at)."""
    engine = _cleanup_engines.get(url)
    if engine is None:
        engine = _cleanup_engines[url] = create_engine(url, poolclass=NullPool)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def database_is_free(url: str) -> bool:
    """Could another connection write right now, without waiting?

    SQLite: ``BEGIN IMMEDIATE`` (the one write lock) on a fresh connection succeeds within
    0.5 s. PostgreSQL, where writers of different rows never wait on each other: no other
    session of this database is inside a transaction (``idle in transaction``), so nothing
    holds row locks or a snapshot while, e.g., an AI provider answers.
    """
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0.5, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            conn.close()
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            busy = conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
                )
            )
    finally:
        engine.dispose()
    return busy == 0


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated-schema SQLite file per session; each test gets a copy (a file copy takes
    milliseconds, building the schema ~0.3 s)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = db.make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    _stamp_head(engine)
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    if backend == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("pg_database")
    try:
        yield url
    finally:
        _truncate_pg(url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
def public_only(settings: Settings) -> Settings:
    """The app's settings without the loopback allowance: the outbound guard's default."""
    settings.outbound_allowed_networks = ""
    return settings


def make_settings(tmp_path: Path, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "secret_key": "test-secret-key-" + "x" * 40,
        "encryption_keys": Fernet.generate_key().decode(),
        "auto_migrate": False,
        "base_url": "http://testserver",
        "log_level": "WARNING",
        "embedded_worker": False,
        "readiness_requires_scheduler": False,
        # The fakes listen on loopback; tests of the outbound guard itself override this.
        "outbound_allowed_networks": "127.0.0.0/8",
    }
    values.update(overrides)
    return Settings(**values).ensure_secrets()


@contextmanager
def serve_app(app: Any, port: int) -> Iterator[None]:
    """Serve ``app`` (lifespan included) with uvicorn on a loopback port in a thread, until the
    block ends."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.02)
    assert server.started, "the app's server did not start"
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def app(settings: Settings) -> Any:
    from digipersona.app import create_app

    return create_app(settings)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def session_factory(app: Any) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = app.state.sessionmaker
    return factory


@pytest.fixture
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping()
    except Exception as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {type(exc).__name__}")
    return REDIS_URL


# -- actors -------------------------------------------------------------------------------------
@dataclass
class Actor:
    """A named user acting through the API with a bearer token."""

    name: str
    email: str
    client: TestClient
    token: str = ""
    refresh_token: str = ""
    user_id: uuid.UUID | None = None
    workspace_id: uuid.UUID | None = None
    role: str = "owner"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> Any:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        return self.request("DELETE", url, **kwargs)

    def login(self, workspace_id: uuid.UUID | None = None) -> None:
        body: dict[str, Any] = {"email": self.email, "password": PASSWORD}
        if workspace_id:
            body["workspace_id"] = str(workspace_id)
        response = self.client.post("/api/v1/auth/login", json=body)
        assert response.status_code == 200, response.text
        data = response.json()
        self.token, self.refresh_token = data["access_token"], data["refresh_token"]
        self.workspace_id = uuid.UUID(data["workspace_id"])


def register_actor(client: TestClient, name: str, workspace_name: str | None = None) -> Actor:
    email = f"{name}-{uuid.uuid4().hex[:6]}@example.com"
    response = client.post(
        "/api/v1/auth/register",
        json={
            "email": email,
            "password": PASSWORD,
            "workspace_name": workspace_name or f"{name} ws",
        },
    )
    assert response.status_code == 201, response.text
    actor = Actor(name=name, email=email, client=client)
    actor.user_id = uuid.UUID(response.json()["user"]["id"])
    actor.login()
    return actor


def invite_actor(client: TestClient, inviter: Actor, name: str, role: str) -> Actor:
    email = f"{name}-{uuid.uuid4().hex[:6]}@example.com"
    response = inviter.post("/api/v1/workspace/invitations", json={"email": email, "role": role})
    assert response.status_code == 201, response.text
    token = response.json()["token"]
    response = client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "invitation_token": token},
    )
    assert response.status_code == 201, response.text
    actor = Actor(name=name, email=email, client=client, role=role)
    actor.user_id = uuid.UUID(response.json()["user"]["id"])
    actor.login()
    return actor


@pytest.fixture
def owner(client: TestClient) -> Actor:
    return register_actor(client, "owner", "Acme")


@pytest.fixture
def outsider(client: TestClient) -> Actor:
    return register_actor(client, "outsider", "Rival")


@pytest.fixture
def collaborator(client: TestClient, owner: Actor) -> Actor:
    """An editor in the owner's workspace."""
    return invite_actor(client, owner, "collaborator", "editor")


@pytest.fixture
def make_member(client: TestClient, owner: Actor) -> Any:
    def make(role: str) -> Actor:
        return invite_actor(client, owner, role, role)

    return make


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DIGIPERSONA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DIGIPERSONA_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    monkeypatch.setenv("DIGIPERSONA_SECRET_KEY", "cli-secret-" + "x" * 40)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def pds() -> Iterator[Any]:
    """The official Bluesky PDS (0.4.x) with an in-memory PLC on loopback; one per session.

    Skips with the reason when it is not installed (scripts/peers/install-pds.sh).
    """
    from tests.peers.pds_harness import find_install, running_peer

    install, reason = find_install()
    if install is None:
        pytest.skip(reason)
    yield from running_peer(install)


@pytest.fixture(scope="session")
def local_llm() -> Iterator[Any]:
    """A real local model (SmolLM2-135M-Instruct) behind llama-cpp-python's OpenAI-compatible
    server on loopback; one per session. Skips when not installed (scripts/peers/install-llm.sh);
    tests using it are marked ``llm``."""
    from tests.peers.llm_harness import find_install, running_server

    install, reason = find_install()
    if install is None:
        pytest.skip(reason)
    yield from running_server(install)


@pytest.fixture(scope="session")
def bsky_network() -> Iterator[Any]:
    """The full local Bluesky network (PLC, PDS, the real AppView) on loopback; one per session.

    Skips with the reason when it is not installed (scripts/peers/install-bsky-network.sh) or
    PostgreSQL/Redis are not reachable; tests using it are marked ``pds``.
    """
    from tests.peers.bsky_network import find_install, running_network

    install, reason = find_install()
    if install is None:
        pytest.skip(reason)
    yield from running_network(install)
