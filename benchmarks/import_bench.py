"""Bulk import benchmark: rows/s of ``posts.bulk.import_rows`` against a baseline in the same run.

    .venv/bin/python benchmarks/import_bench.py              # SQLite (a temporary file)
    .venv/bin/python benchmarks/import_bench.py --pg         # PostgreSQL (a scratch database)
    .venv/bin/python benchmarks/import_bench.py --profile    # also cProfile the 10k import

For N in (1,000, 10,000): N JSON-shaped rows (two personas, two platforms each, every 4th row
with a per-platform text) go through the whole import as the API runs it (validation, personas,
posts, variants, audit events, one commit), timed from the rows to the commit. The baseline
inserts N bare post rows with one Core ``executemany`` in one transaction (no variants, no audit
events): the floor of what writing N posts costs on this database. The ratio import/baseline
says how much the import costs per row beyond that floor. Nothing here asserts: it prints.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digipersona import db  # noqa: E402
from digipersona.auth import service as auth  # noqa: E402
from digipersona.cli.context import cli_principal  # noqa: E402
from digipersona.config import Settings  # noqa: E402
from digipersona.kit.time import utcnow  # noqa: E402
from digipersona.models import Persona, Post, Workspace  # noqa: E402
from digipersona.posts import bulk  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def rows(n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(n):
        row: dict[str, Any] = {
            "persona": "Ada" if i % 2 else "Ben",
            "text": f"Post number {i}: shipping small changes often beats big launches. #ops",
            "platforms": ["x", "linkedin"],
            "tags": ["bench"],
            "priority": i % 5,
        }
        if i % 4 == 0:
            row["variants"] = {"x": f"Short take {i} for X"}
        out.append(row)
    return out


def setup(url: str, work: Path) -> tuple[Any, uuid.UUID, uuid.UUID]:
    db.upgrade(url)
    engine = db.make_engine(url)
    settings = Settings(
        data_dir=work,
        database_url=url,
        secret_key=secrets.token_urlsafe(48),
        encryption_keys=Fernet.generate_key().decode(),
        registration="open",
    )
    with db.session_scope(db.make_sessionmaker(engine)) as session:
        user, workspace, _ = auth.register(
            session,
            settings,
            email="bench@example.com",
            password=secrets.token_urlsafe(18),
            workspace_name="Bench",
        )
        for name in ("Ada", "Ben"):
            session.add(Persona(workspace_id=workspace.id, name=name))
        ws, uid = workspace.id, user.id
    return engine, ws, uid


def run_import(engine: Any, ws: uuid.UUID, data: list[dict[str, Any]]) -> float:
    factory = db.make_sessionmaker(engine)
    start = time.perf_counter()
    with db.session_scope(factory) as session:
        principal = cli_principal(session, session.get_one(Workspace, ws))
        report = bulk.import_rows(session, principal, data, dry_run=False)
        assert report.created == len(data), report.problems[:3]
    return time.perf_counter() - start


def run_baseline(engine: Any, ws: uuid.UUID, uid: uuid.UUID, n: int) -> float:
    with engine.connect() as conn:
        found = conn.execute(text("SELECT id FROM personas WHERE name = 'Ada'")).scalar_one()
    persona_id = found if isinstance(found, uuid.UUID) else uuid.UUID(str(found))
    start = time.perf_counter()
    now = utcnow()
    values = [
        {
            "id": uuid.uuid4(),
            "workspace_id": ws,
            "persona_id": persona_id,
            "body": f"Post number {i}: shipping small changes often beats big launches. #ops",
            "platforms": ["x", "linkedin"],
            "tags": ["bench"],
            "priority": i % 5,
            "created_by_id": uid,
            "created_at": now,
        }
        for i in range(n)
    ]
    with engine.begin() as conn:
        conn.execute(insert(Post.__table__), values)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--profile", action="store_true", help="cProfile the 10k import")
    parser.add_argument("--sizes", default="1000,10000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        admin = None
        if args.pg:
            name = f"import_bench_{secrets.token_hex(4)}"
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
        else:
            url = f"sqlite:///{work / 'bench.db'}"
        engine, ws, uid = setup(url, work)
        try:
            print(f"database: {engine.dialect.name}")
            for n in sizes:
                data = rows(n)
                base = run_baseline(engine, ws, uid, n)
                if args.profile and n == max(sizes):
                    profiler = cProfile.Profile()
                    profiler.enable()
                    took = run_import(engine, ws, data)
                    profiler.disable()
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
                else:
                    took = run_import(engine, ws, data)
                print(
                    f"{n:>6} rows: import {took:6.2f} s ({n / took:8.0f} rows/s); "
                    f"baseline executemany {base:5.2f} s ({n / base:8.0f} rows/s); "
                    f"import/baseline time ratio {took / base:5.1f}x"
                )
        finally:
            engine.dispose()
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
