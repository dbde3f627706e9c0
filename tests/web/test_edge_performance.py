"""The edge's own cost: no session work where none is used, compressed pages and answers,
fingerprinted static files cached for a year."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner

from tests.conftest import Actor
from tests.web.test_shell import web_login


@pytest.fixture
def backend() -> str:
    """The edge never reaches the database: SQLite only."""
    return "sqlite"


def test_probes_scrapes_and_files_skip_the_session(
    client: TestClient, owner: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert web_login(client, owner.email).status_code == 303
    # A logged-in browser sends its cookie everywhere; verifying it is work only pages need.
    verified: list[bytes] = []
    unsign = TimestampSigner.unsign

    def counting(self: TimestampSigner, value: Any, *args: Any, **kwargs: Any) -> Any:
        verified.append(value)
        return unsign(self, value, *args, **kwargs)

    monkeypatch.setattr(TimestampSigner, "unsign", counting)
    for path in (
        "/healthz",
        "/readyz",
        "/metrics",
        "/static/app.css",
        "/api/docs/assets/swagger-ui.css",
    ):
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
    assert verified == []
    assert client.get("/dashboard").status_code == 200
    assert len(verified) == 1
