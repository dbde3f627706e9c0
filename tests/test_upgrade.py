"""Upgrades keep every row: a database made by the oldest migration, with rows in every table it
has, upgrades to head with each row and value intact (SQLite and PostgreSQL). And every
long-running command refuses a database migrated by a newer digipersona."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from digipersona import db
from tests.conftest import PG_ADMIN_URL

ROOT = Path(__file__).resolve().parents[1]
ROWS_PER_TABLE = 3


def oldest_revision() -> str:
    scripts = ScriptDirectory.from_config(db.alembic_config("sqlite://"))
    (base,) = scripts.get_bases()
    return base


def value_for(column: sa.Column[Any], row: int, ids: dict[str, list[uuid.UUID]]) -> Any:
    """A distinct, valid value for ``column`` in the ``row``-th row (foreign keys point at the
    referenced table's row of the same number)."""
    for fk in column.foreign_keys:
        return ids[fk.column.table.name][row]
    kind = column.type
    if isinstance(kind, sa.Uuid):
        return uuid.uuid4()
    if isinstance(kind, sa.Boolean):
        return row % 2 == 0
    if isinstance(kind, sa.Integer):
        return 10 + row
    if isinstance(kind, sa.Float | sa.Numeric):
        return 1.5 + row
    if isinstance(kind, sa.DateTime):
        return datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC) + timedelta(hours=row)
    if isinstance(kind, sa.JSON):
        return {"row": row, "items": ["a", "b"]}
    if isinstance(kind, sa.LargeBinary):
        return f"bytes-{row}".encode()
    if isinstance(kind, sa.String):  # Text too
        text = f"{column.name}-{row}-{uuid.uuid4().hex}"
        return text[: kind.length] if kind.length else text
    raise AssertionError(f"no test value for {column.table.name}.{column.name}: {kind!r}")


def fill_every_table(engine: sa.Engine) -> dict[str, list[dict[str, Any]]]:
    """Insert rows into every table of the schema as it stands; returns them by table."""
    metadata = sa.MetaData()
    metadata.reflect(engine)
    ids: dict[str, list[uuid.UUID]] = {}
    written: dict[str, list[dict[str, Any]]] = {}
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            rows = []
            for row in range(ROWS_PER_TABLE):
                rows.append({c.name: value_for(c, row, ids) for c in table.columns})
            conn.execute(table.insert(), rows)
            written[table.name] = rows
            if "id" in table.columns:
                ids[table.name] = [r["id"] for r in rows]
    return written


def assert_rows_kept(engine: sa.Engine, written: dict[str, list[dict[str, Any]]]) -> None:
    metadata = sa.MetaData()
    metadata.reflect(engine)
    with engine.connect() as conn:
        for name, rows in written.items():
            assert name in metadata.tables, f"table {name} disappeared"
            table = metadata.tables[name]
            kept = [c for c in rows[0] if c in table.columns]
            key = table.columns["id"] if "id" in table.columns else table.columns[kept[0]]
            found = {
                row[key.name]: row
                for row in conn.execute(sa.select(*(table.columns[c] for c in kept))).mappings()
            }
            assert len(found) == len(rows), f"{name}: {len(found)} rows, wrote {len(rows)}"
            for row in rows:
                stored = found[row[key.name]]
                for column in kept:
                    assert _same(stored[column], row[column]), (name, column, stored[column])


def _same(stored: Any, written: Any) -> bool:
    if isinstance(written, datetime) and isinstance(stored, datetime):
        if stored.tzinfo is None:
            stored = stored.replace(tzinfo=UTC)
        return bool(stored == written)
    return bool(stored == written)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'upgrade.db'}"
        return
    try:
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}")
    name = f"dp_upgrade_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_oldest_schema_with_rows_in_every_table_upgrades_to_head_losing_nothing(
    empty_url: str,
) -> None:
    db.upgrade(empty_url, oldest_revision())
    engine = db.make_engine(empty_url)
    try:
        written = fill_every_table(engine)
        assert len(written) >= 5  # users, workspaces, memberships, personas, tokens...
        db.upgrade(empty_url)
        assert db.current_revision(engine) == db.head_revision()
        assert_rows_kept(engine, written)
    finally:
        engine.dispose()


def _run(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGIPERSONA_")}
    env["DIGIPERSONA_DATA_DIR"] = str(data_dir)
    env["DIGIPERSONA_PORT"] = "1"  # never reached: the command must stop before binding
    return subprocess.run(
        [sys.executable, "-m", "digipersona", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _newer_database(data_dir: Path) -> str:
    """A database in ``data_dir`` that a newer digipersona has migrated."""
    url = f"sqlite:///{data_dir / 'digipersona.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'f0ffffffffff'"))
    engine.dispose()
    return url


def _assert_refused(output: str, url: str) -> None:
    message = " ".join(output.split())
    assert "migration f0ffffffffff" in message
    assert "a newer version has upgraded it" in message
    assert "Traceback" not in output
    # Left as it was: no downgrade, no half-applied upgrade.
    engine = db.make_engine(url)
    try:
        assert db.current_revision(engine) == "f0ffffffffff"
    finally:
        engine.dispose()


def test_serve_refuses_a_database_migrated_by_a_newer_version(tmp_path: Path) -> None:
    url = _newer_database(tmp_path)
    result = _run(["serve"], tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    _assert_refused(result.stderr, url)


@pytest.mark.parametrize("command", ["scheduler", "worker"])
def test_scheduler_and_worker_refuse_a_database_migrated_by_a_newer_version(
    cli_env: Path, command: str
) -> None:
    from typer.testing import CliRunner

    from digipersona.cli.main import app

    url = _newer_database(cli_env)
    result = CliRunner().invoke(app, [command])
    assert result.exit_code == 1, result.output
    _assert_refused(result.output, url)
