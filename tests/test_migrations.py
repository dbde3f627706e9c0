"""Migrations build the same schema as the models, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, event, inspect, text

from digipersona import db
from digipersona.models import Base
from digipersona.publishing import repository as publishing_repository
from tests.conftest import PG_ADMIN_URL


def _assert_in_sync(url: str) -> None:
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        assert db.current_revision(engine) == db.head_revision()
        tables = set(inspect(engine).get_table_names())
        assert {t.name for t in Base.metadata.sorted_tables} <= tables
    finally:
        engine.dispose()


def test_sqlite_migrations_match_models_and_use_wal(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    _assert_in_sync(url)
    engine = db.make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL: durable commits
        # A modest page cache per web connection (DIGIPERSONA_SQLITE_CACHE_MIB, default 8).
        assert conn.execute(text("PRAGMA cache_size")).scalar() == -8 * 1024
    engine.dispose()
    engine = db.make_engine(url, sqlite_cache_mib=16)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA cache_size")).scalar() == -16 * 1024
    engine.dispose()


def test_sqlite_claim_reads_the_due_ids_from_the_covering_index(tmp_path: Any) -> None:
    """The dispatcher's claim-and-prepare statement picks due ids from ix_publications_claim
    alone and looks each picked row up by primary key (no scan of every claimable row)."""
    url = f"sqlite:///{tmp_path / 'plan.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _explain(*args: Any) -> tuple[str, Any]:
        statement, parameters = args[2], args[3]
        return "EXPLAIN QUERY PLAN " + statement, parameters

    statement = publishing_repository.prepare_statement("sqlite", True)
    with engine.connect() as conn:
        result = conn.execute(statement, {"now": datetime.now(UTC), "limit": 100})
        plan = [row[3] for row in result.cursor.fetchall()]
    engine.dispose()
    assert any(
        step.startswith("SEARCH publications USING COVERING INDEX ix_publications_claim")
        for step in plan
    ), plan
    assert not any(
        step.startswith("SCAN publications") or "ix_publications_claim (state=?)" in step
        for step in plan
    ), plan


def test_downgrade_to_base_and_up_again(tmp_path: Any) -> None:
    from alembic import command

    url = f"sqlite:///{tmp_path / 'd.db'}"
    db.upgrade(url)
    command.downgrade(db.alembic_config(url), "base")
    engine = db.make_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    db.upgrade(url)


@pytest.mark.postgres
def test_postgres_migrations_match_models() -> None:
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        pytest.skip(f"PostgreSQL not reachable: {type(exc).__name__}")
    name = f"dp_mig_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _assert_in_sync(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
