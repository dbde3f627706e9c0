"""Scale-out and crash proofs with real processes: a web process, two Celery workers on the real
Redis and two schedulers at once on the real PostgreSQL (the topology of
deploy/compose.scale-out.yaml), and workers killed with SIGKILL mid-publish."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import redis
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from digipersona import db
from digipersona.kit import security
from digipersona.kit.crypto import TokenCipher
from digipersona.kit.time import utcnow
from digipersona.models import Connection, Membership, Persona, Post, Publication, User, Workspace
from tests.conftest import PASSWORD, REDIS_URL
from tests.fakes import counting_platform

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
BROKER = REDIS_URL.rsplit("/", 1)[0] + "/14"


@pytest.fixture
def pg_url(pg_database: str) -> Iterator[str]:
    from tests.conftest import _truncate_pg

    yield pg_database
    _truncate_pg(pg_database)


@pytest.fixture
def broker() -> str:
    try:
        client = redis.Redis.from_url(BROKER, socket_timeout=1)
        client.flushdb()
    except Exception as exc:
        pytest.skip(f"Redis not reachable at {BROKER}: {type(exc).__name__}")
    return BROKER


@pytest.fixture
def platform() -> Iterator[str]:
    server, _state = counting_platform.serve()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def env_for(
    pg_url: str, broker: str, platform_url: str, tmp: Path, key: str, **extra: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGIPERSONA_")}
    env.update(
        {
            "DIGIPERSONA_DATABASE_URL": pg_url,
            "DIGIPERSONA_BROKER_URL": broker,
            "DIGIPERSONA_DATA_DIR": str(tmp),
            "DIGIPERSONA_SECRET_KEY": "s" * 48,
            "DIGIPERSONA_ENCRYPTION_KEYS": key,
            "DIGIPERSONA_PROVIDER_PLUGINS": "tests.fakes.counting_platform:CountingProvider",
            "DIGIPERSONA_COUNTING_URL": platform_url,
            "DIGIPERSONA_LOG_LEVEL": "WARNING",
            "DIGIPERSONA_DISPATCH_POLL_SECONDS": "0.05",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra)
    return env


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = open(log, "ab")  # noqa: SIM115 - the child owns it
    return subprocess.Popen(
        [sys.executable, "-m", "digipersona", *args],
        env=env,
        cwd=ROOT,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        proc.wait(10)


def seed(url: str, key: str, count: int) -> list[uuid.UUID]:
    engine = db.make_engine(url)
    factory = db.make_sessionmaker(engine)
    cipher = TokenCipher([key])
    now = utcnow()
    with db.session_scope(factory) as s:
        ws = Workspace(name="Scale")
        user = User(email=f"{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
        s.add_all([ws, user])
        s.flush()
        s.add(Membership(workspace_id=ws.id, user_id=user.id, role="owner"))
        persona = Persona(workspace_id=ws.id, name="Scale")
        s.add(persona)
        s.flush()
        conn = Connection(
            workspace_id=ws.id,
            persona_id=persona.id,
            platform="counting",
            account_id="c",
            access_token_enc=cipher.encrypt("t"),
        )
        s.add(conn)
        s.flush()
        ids = []
        for i in range(count):
            post = Post(
                workspace_id=ws.id,
                persona_id=persona.id,
                body=f"post {i}",
                status="scheduled",
                platforms=["counting"],
            )
            s.add(post)
            s.flush()
            pub = Publication(
                workspace_id=ws.id,
                post_id=post.id,
                connection_id=conn.id,
                platform="counting",
                scheduled_at=now,
                next_attempt_at=now,
                idempotency_key=uuid.uuid4().hex,
            )
            s.add(pub)
            s.flush()
            ids.append(pub.id)
    engine.dispose()
    return ids


def wait_states(url: str, ids: list[uuid.UUID], timeout: float, done: set[str]) -> dict[str, int]:
    engine = db.make_engine(url)
    deadline = time.monotonic() + timeout
    states: dict[str, int] = {}
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                states = dict(
                    conn.execute(
                        select(Publication.state, func.count())
                        .where(Publication.id.in_(ids))
                        .group_by(Publication.state)
                    ).all()
                )
            if set(states) <= done:
                return states
            time.sleep(0.2)
    finally:
        engine.dispose()
    return states


def approved_posts(url: str, count: int) -> tuple[str, uuid.UUID, list[uuid.UUID]]:
    """``count`` approved, unscheduled posts of the seeded persona, for the web to schedule;
    returns the owner's e-mail (password ``PASSWORD``), the connection and the post ids."""
    engine = db.make_engine(url)
    factory = db.make_sessionmaker(engine)
    with db.session_scope(factory) as s:
        user = s.scalars(select(User)).one()
        user.password_hash = security.hash_password(PASSWORD)
        conn = s.scalars(select(Connection)).one()
        posts = [
            Post(
                workspace_id=conn.workspace_id,
                persona_id=conn.persona_id,
                body=f"through the web {i}",
                status="approved",
                platforms=["counting"],
            )
            for i in range(count)
        ]
        s.add_all(posts)
        s.flush()
        result = (user.email, conn.id, [p.id for p in posts])
    engine.dispose()
    return result


def schedule_through_the_web(
    web: str, email: str, connection_id: uuid.UUID, post_ids: list[uuid.UUID]
) -> list[uuid.UUID]:
    """Log in to the web process and schedule each post a moment from now; the ids of the
    publications it created."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{web}/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    with httpx.Client(base_url=web, timeout=30) as http:
        login = http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        at = (utcnow() + timedelta(seconds=2)).isoformat()
        created = []
        for post_id in post_ids:
            r = http.post(
                f"/api/v1/content/{post_id}/schedule",
                json={"at": at, "connection_ids": [str(connection_id)]},
                headers=headers,
            )
            assert r.status_code == 200, r.text
            created += [uuid.UUID(p["id"]) for p in r.json()["publications"]]
    return created


def test_web_two_schedulers_and_two_workers_publish_exactly_once(
    pg_url: str, broker: str, platform: str, tmp_path: Path
) -> None:
    """The scale-out topology of deploy/compose.scale-out.yaml as plain processes: one web
    process, two schedulers, two Celery workers on the real PostgreSQL and Redis. Work due
    already and work scheduled through the web both go out, each exactly once."""
    key = Fernet.generate_key().decode()
    ids = seed(pg_url, key, 120)
    email, connection_id, web_posts = approved_posts(pg_url, 20)
    port = free_port()
    env = env_for(pg_url, broker, platform, tmp_path, key, DIGIPERSONA_PORT=str(port))
    worker = ["worker", "--concurrency", "2", "--loglevel", "WARNING"]
    procs = [
        spawn(["serve"], env, tmp_path / "web.log"),
        spawn(worker, env, tmp_path / "worker1.log"),
        spawn(worker, env, tmp_path / "worker2.log"),
        spawn(["scheduler"], env, tmp_path / "scheduler1.log"),
        spawn(["scheduler"], env, tmp_path / "scheduler2.log"),
    ]
    try:
        ids += schedule_through_the_web(f"http://127.0.0.1:{port}", email, connection_id, web_posts)
        assert len(ids) == 140
        states = wait_states(pg_url, ids, 90, {"published"})
        assert states == {"published": 140}, (
            states,
            (tmp_path / "worker1.log").read_text()[-3000:],
        )
        stats = counting_platform.stats(platform)
        assert stats["posts"] == 140
        assert stats["duplicates"] == 0
    finally:
        for proc in procs:
            kill(proc)


@pytest.mark.parametrize("moment", ["after_accept", "before_accept"])
def test_worker_killed_mid_publish_loses_nothing_and_duplicates_nothing(
    pg_url: str, broker: str, platform: str, tmp_path: Path, moment: str
) -> None:
    key = Fernet.generate_key().decode()
    ids = seed(pg_url, key, 1)
    control = {"hold": True} if moment == "after_accept" else {"latency": 3.0}
    httpx.post(f"{platform}/control", json=control)
    env = env_for(pg_url, broker, platform, tmp_path, key, DIGIPERSONA_PUBLISH_LEASE_SECONDS="10")
    scheduler = spawn(["scheduler"], env, tmp_path / "scheduler.log")
    worker = spawn(
        ["worker", "--concurrency", "1", "--loglevel", "WARNING"], env, tmp_path / "w1.log"
    )
    try:
        assert wait_states(pg_url, ids, 60, {"sending"}) == {"sending": 1}
        if moment == "after_accept":
            deadline = time.monotonic() + 20
            while counting_platform.stats(platform)["posts"] == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert counting_platform.stats(platform)["posts"] == 1  # the platform has it
        else:
            time.sleep(0.5)  # the request is on the wire, not yet applied
        kill(worker)  # SIGKILL the whole worker (main process and its pool)
        httpx.post(f"{platform}/control", json={"hold": False, "latency": 0})
        worker = spawn(
            ["worker", "--concurrency", "1", "--loglevel", "WARNING"], env, tmp_path / "w2.log"
        )
        states = wait_states(pg_url, ids, 60, {"published"})
        assert states == {"published": 1}, states
        stats = counting_platform.stats(platform)
        assert stats["posts"] == 1
        assert stats["duplicates"] == 0
    finally:
        kill(worker)
        kill(scheduler)
