"""``digipersona doctor``: a healthy install exits 0; a wrong encryption key, a stopped broker and
a stale scheduler each show as FAIL, by name, and the exit code is 1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from digipersona import db
from digipersona.config import Settings
from digipersona.kit.crypto import TokenCipher
from digipersona.kit.time import utcnow
from digipersona.models import Base, Connection, Heartbeat, Persona, Workspace
from digipersona.monitoring.doctor import Status, clock_check, data_dir_check, platform_checks
from tests.conftest import _stamp_head

ROOT = Path(__file__).resolve().parents[2]


def install(tmp_path: Path, key: str, heartbeat_age: timedelta) -> Path:
    """An embedded install: migrated SQLite, one connection, a scheduler heartbeat."""
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    engine = db.make_engine(f"sqlite:///{data / 'digipersona.db'}")
    Base.metadata.create_all(engine)
    _stamp_head(engine)
    with db.session_scope(db.make_sessionmaker(engine)) as s:
        ws = Workspace(name="W")
        s.add(ws)
        s.flush()
        persona = Persona(workspace_id=ws.id, name="P")
        s.add(persona)
        s.flush()
        s.add(
            Connection(
                workspace_id=ws.id,
                persona_id=persona.id,
                platform="bluesky",
                account_id=uuid.uuid4().hex,
                access_token_enc=TokenCipher([key]).encrypt("token"),
            )
        )
        s.add(Heartbeat(name="serve-1", kind="scheduler", beat_at=utcnow() - heartbeat_age))
    engine.dispose()
    return data


def doctor(data: Path, key: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGIPERSONA_")}
    env.update(
        {
            "DIGIPERSONA_DATA_DIR": str(data),
            "DIGIPERSONA_SECRET_KEY": "doctor-" + uuid.uuid4().hex * 2,
            "DIGIPERSONA_ENCRYPTION_KEYS": key,
            "COLUMNS": "250",
            **extra,
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "digipersona", "doctor", "--skip-ai"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed again: nothing listens there


def failed_checks(stdout: str) -> set[str]:
    return {
        line.split("│")[2].strip()
        for line in stdout.splitlines()
        if line.count("│") >= 4 and "FAIL" in line.split("│")[1]
    }


def test_a_healthy_install_exits_0(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    data = install(tmp_path, key, timedelta(seconds=5))
    done = doctor(data, key)
    assert done.returncode == 0, done.stdout + done.stderr
    assert failed_checks(done.stdout) == set()
    assert "encryption keys" in done.stdout and "all 1 stored secrets decrypt" in done.stdout


def test_wrong_key_stopped_broker_and_stale_scheduler_each_fail_by_name(tmp_path: Path) -> None:
    data = install(tmp_path, Fernet.generate_key().decode(), timedelta(hours=1))
    done = doctor(
        data,
        Fernet.generate_key().decode(),
        DIGIPERSONA_BROKER_URL=f"redis://127.0.0.1:{closed_port()}/0",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert failed_checks(done.stdout) == {"encryption keys", "broker", "scheduler"}, done.stdout
    assert "1 of 1 stored secrets do not decrypt" in done.stdout
    assert "3 check(s) failed" in done.stdout


def test_platform_credentials_and_data_dir_permissions(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    data = install(tmp_path, key, timedelta(seconds=5))
    settings = Settings(
        data_dir=data, secret_key="k" * 40, encryption_keys=key, linkedin_client_id="only-id"
    )
    engine = db.make_engine(settings.effective_database_url)
    with db.make_sessionmaker(engine)() as session:
        found = {r.check: r.status for r in platform_checks(session, settings)}
    engine.dispose()
    assert found == {"linkedin app": Status.fail, "x app": Status.warn}
    assert data_dir_check(settings).status is Status.ok
    data.chmod(0o755)
    (data / "secret_key").write_text("s")
    (data / "secret_key").chmod(0o644)
    loose = data_dir_check(settings)
    assert loose.status is Status.warn and "secret_key" in loose.detail


@pytest.mark.postgres
def test_clock_skew_against_postgresql(pg_database: str) -> None:
    engine = db.make_engine(pg_database)
    try:
        with db.make_sessionmaker(engine)() as session:
            assert clock_check(session, engine, utcnow()).status is Status.ok
            late = clock_check(session, engine, utcnow() + timedelta(minutes=2))
    finally:
        engine.dispose()
    assert late.status is Status.fail and "off the database" in late.detail


@pytest.mark.redis
@pytest.mark.slow
def test_scale_out_broker_and_a_running_worker_are_ok(tmp_path: Path) -> None:
    import redis

    from tests.conftest import REDIS_URL

    broker = REDIS_URL.rsplit("/", 1)[0] + "/12"
    try:
        redis.Redis.from_url(broker, socket_timeout=1).flushdb()
    except Exception as exc:
        pytest.skip(f"Redis not reachable at {broker}: {type(exc).__name__}")
    key = Fernet.generate_key().decode()
    data = install(tmp_path, key, timedelta(seconds=5))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGIPERSONA_")}
    env.update(
        {
            "DIGIPERSONA_DATA_DIR": str(data),
            "DIGIPERSONA_SECRET_KEY": "w" + uuid.uuid4().hex * 2,
            "DIGIPERSONA_ENCRYPTION_KEYS": key,
            "DIGIPERSONA_BROKER_URL": broker,
        }
    )
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "digipersona", "worker", "--concurrency", "1"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while b" ready." not in log.read_bytes() and time.monotonic() < deadline:
            assert worker.poll() is None, log.read_text()
            time.sleep(0.1)
        done = doctor(data, key, DIGIPERSONA_BROKER_URL=broker)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "reachable" in done.stdout and "celery@" in done.stdout
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(20)


def test_an_unmigrated_database_fails_on_migrations_without_a_traceback(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    key = Fernet.generate_key().decode()
    missing = doctor(data, key)
    assert missing.returncode == 1, missing.stdout + missing.stderr
    assert failed_checks(missing.stdout) == {"database"}, missing.stdout
    assert not (data / "digipersona.db").exists()  # the doctor only reads
    (data / "digipersona.db").touch(mode=0o600)  # an empty SQLite database
    done = doctor(data, key)
    assert done.returncode == 1, done.stdout + done.stderr
    assert failed_checks(done.stdout) == {"migrations"}, done.stdout
    assert "digipersona db upgrade" in done.stdout
    assert "Traceback" not in done.stderr
