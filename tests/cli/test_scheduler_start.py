"""`digipersona scheduler` says at start what it reached and that it runs (issue 17)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from digipersona.kit.urls import without_password
from tests.cli.test_serve_shutdown import wait_for

# A database of its own on the shared Redis, emptied afterwards (the scheduler sends jobs).
REDIS_DB = 14


def test_passwords_are_hidden_in_connection_urls() -> None:
    assert without_password("redis://:s3cret@10.0.0.2:6379/0") == "redis://:***@10.0.0.2:6379/0"
    assert without_password("postgresql+psycopg://dp:s3cret@db/dp") == (
        "postgresql+psycopg://dp:***@db/dp"
    )
    assert without_password("sqlite:////srv/dp.db") == "sqlite:////srv/dp.db"


def test_scheduler_prints_what_it_connected_to(tmp_path: Path, redis_url: str) -> None:
    import redis

    broker = redis_url.rsplit("/", 1)[0] + f"/{REDIS_DB}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGIPERSONA_")}
    env.update(DIGIPERSONA_DATA_DIR=str(tmp_path), DIGIPERSONA_BROKER_URL=broker)
    proc = subprocess.Popen(
        [sys.executable, "-m", "digipersona", "scheduler"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert wait_for(lambda: "database:" in "".join(lines) or proc.poll() is not None, 90)
    finally:
        proc.kill()
        proc.wait(30)
        reader.join(10)
        client = redis.Redis.from_url(broker)
        client.delete(*(client.keys("*") or ["celery"]))
    output = "".join(lines)
    assert "digipersona scheduler scheduler:" in output and "is running" in output, output
    assert f"broker:    {broker}" in output
    assert f"database:  sqlite:///{tmp_path / 'digipersona.db'}" in output


def test_scheduler_names_a_broker_it_cannot_reach(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from digipersona.cli.main import app
    from digipersona.config import get_settings
    from digipersona.worker import runtime

    for name in list(os.environ):
        if name.startswith("DIGIPERSONA_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DIGIPERSONA_DATA_DIR", str(tmp_path))
    # Nothing listens on port 9 (discard) of loopback.
    monkeypatch.setenv("DIGIPERSONA_BROKER_URL", "redis://:hunter2@127.0.0.1:9/0")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["scheduler"])
    finally:
        get_settings.cache_clear()
        runtime.set_runtime(None)
    assert result.exit_code == 1
    assert "Cannot reach the broker redis://:***@127.0.0.1:9/0" in result.output
    assert "hunter2" not in result.output
