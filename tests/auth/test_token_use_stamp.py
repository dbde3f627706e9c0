"""An API token's ``last_used_at`` is stamped in its own write, never inside a read request.

Under load on SQLite, a GET whose read transaction turned into a write (the stamp) failed at once
with "database is locked" when another writer had committed meanwhile: 500s on list endpoints.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select

from digipersona.models import ApiToken
from tests.conftest import Actor


def test_a_get_with_an_api_token_writes_nothing_in_its_read_transaction(
    owner: Actor, app: Any, session_factory: Any, backend: str
) -> None:
    token = owner.post("/api/v1/tokens", json={"name": "agent", "scopes": ["read"]}).json()
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.split()[0].upper() + " " + " ".join(statement.split()[1:3]))

    def committed(_conn: Any) -> None:
        statements.append("COMMIT")

    engine = app.state.engine
    event.listen(engine, "before_cursor_execute", record)
    event.listen(engine, "commit", committed)
    try:
        r = owner.client.get(
            "/api/v1/personas", headers={"Authorization": f"Bearer {token['token']}"}
        )
    finally:
        event.remove(engine, "before_cursor_execute", record)
        event.remove(engine, "commit", committed)
    assert r.status_code == 200, r.text
    update = next(i for i, s in enumerate(statements) if s.startswith("UPDATE api_tokens"))
    first_read = next(i for i, s in enumerate(statements) if s.startswith("SELECT"))
    assert "COMMIT" in statements[first_read:update], (
        f"the stamp ran inside the request's own read transaction: {statements}"
    )
    if backend == "sqlite":
        began = max(i for i, s in enumerate(statements[:update]) if s.startswith("BEGIN"))
        assert statements[began] == "BEGIN IMMEDIATE", statements
    with session_factory() as s:
        row = s.scalars(select(ApiToken).where(ApiToken.name == "agent")).one()
        assert row.last_used_at is not None


def test_a_nul_in_a_registration_is_422_and_stores_nothing(client: Any) -> None:
    """PostgreSQL text cannot hold NUL: it was a 500 there (auth had its own request base)."""
    for field in ("display_name", "workspace_name"):
        r = client.post(
            "/api/v1/auth/register",
            json={"email": "nul@example.com", "password": "correct horse 42!", field: "a\x00b"},
        )
        assert r.status_code == 422, r.text
        assert "NUL" in r.text
    r = client.post(
        "/api/v1/auth/login", json={"email": "nul@example.com", "password": "correct horse 42!"}
    )
    assert r.status_code == 401, r.text
