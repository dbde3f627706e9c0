"""Tokens are encrypted at rest, never returned by the API, and re-encrypted on key rotation."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from typer.testing import CliRunner

from digipersona.cli.main import app as cli
from digipersona.config import get_settings
from digipersona.kit.crypto import TokenCipher
from digipersona.models import Connection
from tests.conftest import Actor

SECRET = "whsec-super-secret-value-0123456789"


def _webhook(owner: Actor) -> dict[str, Any]:
    persona = owner.post("/api/v1/personas", json={"name": "Sec"}).json()
    r = owner.post(
        "/api/v1/integrations/webhook/connect",
        json={"persona_id": persona["id"], "url": "https://hooks.example/x", "secret": SECRET},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_api_never_returns_tokens(owner: Actor) -> None:
    created = _webhook(owner)
    assert created["secret"] is None  # given by the user: not echoed
    listed = owner.get("/api/v1/connections").text
    assert SECRET not in listed
    assert "access_token" not in listed


def test_generated_webhook_secret_is_shown_once(owner: Actor) -> None:
    persona = owner.post("/api/v1/personas", json={"name": "Gen"}).json()
    r = owner.post(
        "/api/v1/integrations/webhook/connect",
        json={"persona_id": persona["id"], "url": "https://hooks.example/y"},
    )
    secret = r.json()["secret"]
    assert secret and len(secret) >= 32
    assert secret not in owner.get("/api/v1/connections").text


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_database_dump_contains_no_plaintext_token(
    owner: Actor, database_url: str, tmp_path: Path
) -> None:
    _webhook(owner)
    db_file = database_url.removeprefix("sqlite:///")
    with sqlite3.connect(db_file) as raw_conn:
        raw_conn.execute("PRAGMA wal_checkpoint(FULL)")
    raw = Path(db_file).read_bytes()
    wal = Path(db_file + "-wal")
    if wal.exists():
        raw += wal.read_bytes()
    assert b"hooks.example" in raw  # the dump is real and has the connection
    assert SECRET.encode() not in raw


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgres_rows_hold_only_ciphertext(owner: Actor, session_factory: Any) -> None:
    _webhook(owner)
    with session_factory() as s:
        row = s.scalars(select(Connection)).one()
        assert SECRET not in row.access_token_enc
        assert row.access_token_enc.startswith("gAAAAA")


def test_keys_rotate_reencrypts_with_the_first_key(
    owner: Actor, session_factory: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _webhook(owner)
    old_key = settings.encryption_key_list()[0]
    new_key = Fernet.generate_key().decode()
    monkeypatch.setenv("DIGIPERSONA_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("DIGIPERSONA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DIGIPERSONA_SECRET_KEY", settings.secret_key_value())
    monkeypatch.setenv("DIGIPERSONA_ENCRYPTION_KEYS", f"{new_key},{old_key}")
    monkeypatch.setenv("DIGIPERSONA_AUTO_MIGRATE", "false")
    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(cli, ["keys", "rotate"], catch_exceptions=False)
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 0, r.output
    assert "1 connection" in r.output
    with session_factory() as s:
        token = s.scalars(select(Connection)).one().access_token_enc
    assert TokenCipher([new_key]).decrypt(token) == SECRET  # the old key is no longer needed
