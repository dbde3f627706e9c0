"""Every database connection busy: the request waits briefly, then answers 503 with Retry-After
(never a 500), as problem+json for the API and a page for the web app."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from digipersona.app import create_app
from tests.conftest import make_settings, register_actor
from tests.web.test_shell import web_login


def test_an_exhausted_pool_answers_503_with_retry_after(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, database_url, db_pool_size=1, db_max_overflow=0, db_pool_timeout_seconds=0.2
    )
    app = create_app(settings)
    with TestClient(app) as client:
        owner = register_actor(client, "owner")
        assert web_login(client, owner.email).status_code == 303
        held = app.state.engine.connect()  # the one connection, busy elsewhere
        try:
            held.exec_driver_sql("SELECT 1")
            api = owner.get("/api/v1/personas")
            assert api.status_code == 503, api.text
            assert api.headers["retry-after"] == "2"
            assert api.headers["content-type"].startswith("application/problem+json")
            assert api.json()["status"] == 503
            assert "busy" in api.json()["detail"]

            page = client.get("/personas", headers={"accept": "text/html"})
            assert page.status_code == 503
            assert page.headers["retry-after"] == "2"
            assert page.headers["content-type"].startswith("text/html")
            assert "busy" in page.text
        finally:
            held.close()
        assert owner.get("/api/v1/personas").status_code == 200
        assert client.get("/personas").status_code == 200
