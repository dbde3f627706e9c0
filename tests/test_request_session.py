"""The request session's unit of work ends before the answer leaves: a client acting on the
answer (following a redirect) always reads what the request wrote."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from digipersona import db


def test_a_write_is_committed_before_the_response_is_sent(database_url: str) -> None:
    engine = db.make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe_rows (n INTEGER)"))
    app = FastAPI()
    app.state.sessionmaker = db.make_sessionmaker(engine)

    @app.post("/write")
    def write(session: db.SessionDep) -> dict[str, bool]:
        session.execute(text("INSERT INTO probe_rows (n) VALUES (1)"))
        return {"ok": True}

    seen_at_response_start: list[int] = []

    def visible_rows() -> int:
        # Another connection, like the next request of the browser.
        other = db.make_engine(database_url)
        try:
            with other.connect() as conn:
                return int(conn.execute(text("SELECT count(*) FROM probe_rows")).scalar_one())
        finally:
            other.dispose()

    async def probe(scope: Any, receive: Any, send: Any) -> None:
        async def watching_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                seen_at_response_start.append(visible_rows())
            await send(message)

        await app(scope, receive, watching_send)

    try:
        with TestClient(probe) as client:
            assert client.post("/write").json() == {"ok": True}
        assert seen_at_response_start == [1]
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE probe_rows"))
        engine.dispose()
