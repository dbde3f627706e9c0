"""The embedded dispatcher has its own database connections: requests that take every
connection of the web pool (the API benchmark's 32 connections) never make its ticks fail
("dispatcher tick failed; retrying" on PostgreSQL, where it used to share that pool)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from digipersona.app import create_app
from digipersona.publishing import engine as pub_engine
from tests.conftest import make_settings


def test_dispatcher_works_while_requests_hold_every_pool_connection(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(
        tmp_path,
        database_url,
        embedded_worker=True,
        db_pool_size=1,
        db_max_overflow=0,
        db_pool_timeout_seconds=0.2,
    )
    app = create_app(settings)
    with TestClient(app):
        assert app.state.dispatch_engine is not app.state.engine
        held = app.state.engine.connect()  # the web pool's only connection, as under load
        try:
            engine = app.state.dispatcher.engine
            # What a tick reads and writes; on the shared pool each waited 0.2 s and raised.
            assert pub_engine.next_due_at(engine) is None
            assert pub_engine.release_expired(engine) == (0, 0)
        finally:
            held.close()
