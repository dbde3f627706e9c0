"""Whole-workspace export and import: round trip, no credentials, refusals (SQLite, PostgreSQL)."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from digipersona import db
from digipersona.auth import service as auth
from digipersona.autopilot import triggers
from digipersona.autopilot.schemas import TriggerCreate
from digipersona.cli.context import cli_principal
from digipersona.config import Settings
from digipersona.demo.seed import seed
from digipersona.exceptions import Conflict, ValidationFailed
from digipersona.models import Connection, Persona, Post, Publication, Trigger, Workspace
from digipersona.transfer import service
from tests.conftest import PASSWORD

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def _export(factory: sessionmaker[Session], workspace_id: uuid.UUID) -> str:
    out = io.StringIO()
    with db.session_scope(factory) as session:
        workspace = session.get_one(Workspace, workspace_id)
        service.export_to(out, session, cli_principal(session, workspace), workspace)
    return out.getvalue()


def _import(factory: sessionmaker[Session], workspace_id: uuid.UUID, text: str) -> dict[str, int]:
    with db.session_scope(factory) as session:
        principal = cli_principal(session, session.get_one(Workspace, workspace_id))
        _header, rows = service.read_document(io.StringIO(text))
        return service.import_document(session, principal, rows).rows


def _empty_workspace(factory: sessionmaker[Session], settings: Settings, email: str) -> uuid.UUID:
    with db.session_scope(factory) as session:
        _user, workspace, _ = auth.register(
            session, settings, email=email, password=PASSWORD, workspace_name="Copy"
        )
        return workspace.id


def _canonical(text: str) -> dict[str, list[str]]:
    """The document with every id replaced by a digest of its row's content (references
    first resolved the same way), each section sorted: equal exactly when the workspaces are
    equal but for their ids. Connection states are compared apart (see the module)."""
    data = json.loads(text)
    names: dict[str, str] = {}
    out: dict[str, list[str]] = {}
    for section, _model in service.SECTIONS:
        lines = []
        for row in data[section]:
            row = dict(row)
            own = row.pop("id")
            for key, value in row.items():
                if isinstance(value, str) and value in names:
                    row[key] = names[value]
            if section == "connections":
                row.pop("state"), row.pop("state_reason")
            line = json.dumps(row, sort_keys=True)
            names[own] = hashlib.sha256(line.encode()).hexdigest()[:16]
            lines.append(line)
        out[section] = sorted(lines)
    return out


@pytest.fixture
def demo(
    client: Any, settings: Settings, session_factory: sessionmaker[Session]
) -> tuple[uuid.UUID, str]:
    report = seed(session_factory, settings, password=PASSWORD, now=NOW)
    with db.session_scope(session_factory) as session:
        workspace = session.get_one(Workspace, report.workspace_id)
        principal = cli_principal(session, workspace)
        persona = session.scalars(
            select(Persona).where(Persona.workspace_id == workspace.id)
        ).first()
        assert persona is not None
        made = triggers.create_trigger(
            session, principal, persona.id, TriggerCreate(kind="webhook", name="CI hook")
        )
        token = made.token
        assert token
    return report.workspace_id, token


def test_round_trip_into_a_fresh_database_and_a_copy_in_the_same_one(
    demo: tuple[uuid.UUID, str],
    settings: Settings,
    session_factory: sessionmaker[Session],
    sqlite_template: Path,
    tmp_path: Path,
) -> None:
    workspace_id, webhook_token = demo
    first = _export(session_factory, workspace_id)
    data = json.loads(first)
    assert data["format_version"] == service.FORMAT_VERSION
    counts = {name: len(data[name]) for name, _ in service.SECTIONS}
    assert counts["personas"] == 3 and counts["connections"] >= 3
    assert counts["autopilot_rules"] >= 1 and counts["autopilot_triggers"] == 1
    assert counts["posts"] >= 40 and counts["variants"] >= counts["posts"]
    assert counts["metric_snapshots"] >= 1 and counts["interactions"] >= 1
    published = [p for p in data["publications"] if p["state"] == "published"]
    assert published and all("external_url" in p and "external_id" in p for p in published)
    # Never a credential: no token column, no encrypted blob, not the webhook token's hash.
    with session_factory() as s:
        secrets = [c.access_token_enc for c in s.scalars(select(Connection))]
        secrets += [t.token_hash for t in s.scalars(select(Trigger)) if t.token_hash]
    assert secrets and not any(secret in first for secret in secrets)
    assert webhook_token not in first
    for word in ("access_token", "refresh_token", "token_hash", "token_hint", "password"):
        assert word not in first

    # A fresh database (SQLite, whatever the source's backend) ...
    fresh = tmp_path / "fresh.db"
    shutil.copyfile(sqlite_template, fresh)
    engine = db.make_engine(f"sqlite:///{fresh}")
    try:
        factory = db.make_sessionmaker(engine)
        target = _empty_workspace(factory, settings, "fresh@example.com")
        assert _import(factory, target, first) == counts
        second = _export(factory, target)
        with factory() as s:
            states = {c.state for c in s.scalars(select(Connection))}
    finally:
        engine.dispose()
    assert states == {"needs_reconnect"}
    assert _canonical(second) == _canonical(first)
    assert not set(_ids(first)) & set(_ids(second))

    # ... and a copy beside the original in the same database (every id is new).
    copy = _empty_workspace(session_factory, settings, "copy@example.com")
    assert _import(session_factory, copy, first) == counts
    assert _canonical(_export(session_factory, copy)) == _canonical(first)
    with session_factory() as s:
        for model in (Post, Publication):
            stmt = select(func.count()).select_from(model).where(model.workspace_id == copy)
            assert s.scalar(stmt) == counts[model.__tablename__]
    # The original is untouched and a second import into a filled workspace is refused.
    assert _canonical(_export(session_factory, workspace_id)) == _canonical(first)
    with pytest.raises(Conflict):
        _import(session_factory, copy, first)


def _ids(text: str) -> list[str]:
    data = json.loads(text)
    return [row["id"] for name, _ in service.SECTIONS for row in data[name]]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace('"format_version": 1', '"format_version": 9'), "format_version 9"),
        (lambda t: t[: len(t) // 2], "ends too early|not valid JSON"),
        (lambda t: t.replace('"name": "Maya', '"nom": "Maya', 1), "unknown field"),
        (lambda t: "[1, 2]", "not a digipersona workspace export"),
    ],
)
def test_a_damaged_file_is_a_clear_error_and_writes_nothing(
    demo: tuple[uuid.UUID, str],
    settings: Settings,
    session_factory: sessionmaker[Session],
    change: Any,
    message: str,
) -> None:
    text = _export(session_factory, demo[0])
    target = _empty_workspace(session_factory, settings, "t@example.com")
    with pytest.raises(ValidationFailed, match=message):
        _import(session_factory, target, change(text))
    with session_factory() as s:
        assert not s.scalar(
            select(func.count()).select_from(Post).where(Post.workspace_id == target)
        )
