"""``digipersona backup`` during a publishing burst, ``restore`` into a fresh data dir, and
``serve`` on the restored copy: every post, publication and connection is there, and the
restored keys decrypt the stored tokens (the restored server publishes with them).
Also the PostgreSQL procedure of docs/backups.md (pg_dump -Fc / pg_restore), round trip."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from click.testing import Result
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from typer.testing import CliRunner

from digipersona import db
from digipersona.cli.main import app
from digipersona.config import Settings, get_settings
from digipersona.kit import security
from digipersona.kit.crypto import TokenCipher
from digipersona.models import Connection, Post, Publication, User
from tests.cli.test_serve_shutdown import _free_port, _up, wait_for
from tests.conftest import PASSWORD, PG_ADMIN_URL
from tests.fakes import counting_platform
from tests.publishing.test_scaleout import seed

ROOT = Path(__file__).resolve().parents[2]
BURST = 80
# Short leases: the restored copy's sends in flight are reconciled within seconds.
LEASE = {"DIGIPERSONA_PUBLISH_LEASE_SECONDS": "10"}


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGIPERSONA_")}
    env.update(
        {
            "DIGIPERSONA_DATA_DIR": str(data_dir),
            "DIGIPERSONA_PROVIDER_PLUGINS": "tests.fakes.counting_platform:CountingProvider",
            "DIGIPERSONA_LOG_LEVEL": "WARNING",
            "DIGIPERSONA_DISPATCH_POLL_SECONDS": "0.05",
            "PYTHONPATH": str(ROOT),
            **extra,
        }
    )
    return env


def run_cli(args: list[str], data_dir: Path) -> Result:
    """The command in this process (as the operator's shell would run it, minus the start-up
    time of a new interpreter); the server it backs up runs in its own process."""
    get_settings.cache_clear()
    try:
        env = {k: None for k in os.environ if k.startswith("DIGIPERSONA_")}
        env["DIGIPERSONA_DATA_DIR"] = str(data_dir)
        return CliRunner().invoke(app, args, env=env)
    finally:
        get_settings.cache_clear()


@pytest.fixture
def platform() -> Iterator[str]:
    server, _state = counting_platform.serve()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class Serve:
    """``digipersona serve`` on a data dir, on a free port; stopped with SIGTERM."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self._log = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "digipersona", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert wait_for(lambda: _up(self.url) or self.proc.poll() is not None, 60)
        assert self.proc.poll() is None, log.read_text()[-3000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)
        self._log.close()


def states(url: str) -> dict[str, int]:
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Publication.state, func.count()).group_by("state"))
            return {str(state): int(n) for state, n in rows}
    finally:
        engine.dispose()


def test_backup_during_a_burst_then_restore_and_serve_loses_nothing(
    tmp_path: Path, platform: str
) -> None:
    source = tmp_path / "source"
    settings = Settings(data_dir=source).ensure_secrets()  # generates the secrets files
    url = settings.effective_database_url
    db.upgrade(url)
    key = settings.encryption_key_list()[0]
    seed(url, key, BURST)
    engine = db.make_engine(url)
    with engine.begin() as conn:
        email = conn.execute(select(User.email)).scalar_one()
        conn.execute(sa.update(User).values(password_hash=security.hash_password(PASSWORD)))
    engine.dispose()
    httpx.post(f"{platform}/control", json={"latency": 0.02})

    server = Serve(
        cli_env(source, DIGIPERSONA_COUNTING_URL=platform, DIGIPERSONA_WORKER_THREADS="2", **LEASE),
        tmp_path / "source.log",
    )
    archive = tmp_path / "backups" / "digipersona.tar"
    try:
        assert wait_for(lambda: counting_platform.stats(platform)["posts"] >= 10, 60)
        # Slow the platform down so the backup lands in the middle of the burst.
        httpx.post(f"{platform}/control", json={"latency": 2.0})
        result = run_cli(["backup", str(archive)], source)
        httpx.post(f"{platform}/control", json={"latency": 0})
        assert result.exit_code == 0, result.output
        assert "holds the secret key and the encryption keys" in " ".join(result.output.split())
        assert wait_for(lambda: states(url) == {"published": BURST}, 90), states(url)
    finally:
        server.stop()
    assert archive.stat().st_mode & 0o777 == 0o600
    with tarfile.open(archive) as tar:
        assert set(tar.getnames()) == {
            "manifest.json",
            "digipersona.db",
            "secret_key",
            "encryption_keys",
            "vapid_private.pem",
        }

    target = tmp_path / "restored"
    result = run_cli(["restore", str(archive)], target)
    assert result.exit_code == 0, result.output
    # A second restore would overwrite what is there now: refused without --force.
    result = run_cli(["restore", str(archive)], target)
    assert result.exit_code == 1
    assert "not empty" in result.output and "--force" in result.output

    restored_url = f"sqlite:///{target / 'digipersona.db'}"
    snapshot = states(restored_url)
    assert sum(snapshot.values()) == BURST, snapshot
    assert set(snapshot) <= {"published", "scheduled", "sending"}, snapshot
    # Taken mid-burst: some were out, some still in flight or to go.
    assert 1 <= snapshot.get("published", 0) < BURST, snapshot
    for name in ("secret_key", "encryption_keys", "vapid_private.pem"):
        assert (target / name).read_bytes() == (source / name).read_bytes()
        assert (target / name).stat().st_mode & 0o777 == 0o600
    engine = db.make_engine(restored_url)
    with engine.connect() as conn:
        token = conn.execute(select(Connection.access_token_enc)).scalar_one()
        published_ids = set(
            conn.execute(
                select(Publication.idempotency_key).where(Publication.state == "published")
            ).scalars()
        )
        assert conn.execute(select(func.count()).select_from(Post)).scalar_one() == BURST
    engine.dispose()
    restored_keys = (target / "encryption_keys").read_text().strip().split(",")
    assert TokenCipher(restored_keys).decrypt(token) == "t"
    # What the snapshot has as published, the platform really has (a consistent copy).
    assert published_ids <= set(counting_platform.stats(platform)["first_seen"])

    # The same platform as before: the sends in flight at backup time are checked there
    # first (with the restored, decrypted token) and recorded as published, not sent again.
    server = Serve(cli_env(target, DIGIPERSONA_COUNTING_URL=platform, **LEASE), tmp_path / "r.log")
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            login = http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            assert login.status_code == 200, login.text
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            listed = http.get("/api/v1/content", params={"limit": 200}, headers=headers)
            assert listed.status_code == 200, listed.text
            assert len(listed.json()["items"]) == BURST
            connections = http.get("/api/v1/connections", headers=headers).json()
            assert [(c["platform"], c["state"]) for c in connections] == [("counting", "active")]
        done = wait_for(lambda: states(restored_url) == {"published": BURST}, 90)
        assert done, states(restored_url)
        stats = counting_platform.stats(platform)
        assert (stats["posts"], stats["duplicates"]) == (BURST, 0)
    finally:
        server.stop()


@pytest.mark.postgres
def test_pg_dump_and_pg_restore_round_trip(pg_database: str, tmp_path: Path) -> None:
    """The PostgreSQL procedure of docs/backups.md: ``pg_dump -Fc`` then ``pg_restore`` into a
    new database gives every row back, and the same migration revision."""
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore are not installed (Debian: postgresql-client)")
    from tests.conftest import _truncate_pg

    key = Fernet.generate_key().decode()
    ids = seed(pg_database, key, 20)
    libpq = pg_database.replace("postgresql+psycopg://", "postgresql://")
    dump = tmp_path / "digipersona.dump"
    subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(dump), libpq], check=True)
    name = f"dp_restore_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    restored = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                "-d",
                restored.replace("postgresql+psycopg://", "postgresql://"),
                str(dump),
            ],
            check=True,
        )
        engine = db.make_engine(restored)
        try:
            assert db.current_revision(engine) == db.head_revision()
            with engine.connect() as conn:
                got = set(conn.execute(select(Publication.id)).scalars())
                token = conn.execute(select(Connection.access_token_enc)).scalar_one()
        finally:
            engine.dispose()
        assert got == set(ids)
        assert TokenCipher([key]).decrypt(token) == "t"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        _truncate_pg(pg_database)
