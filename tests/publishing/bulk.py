"""Seed many posts and publications fast (Core bulk inserts), and count the queries a request runs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert

from digipersona.kit.time import utcnow
from digipersona.models import Post, Publication


def seed(
    session_factory: Any,
    workspace_id: uuid.UUID,
    persona_id: uuid.UUID,
    connection_id: uuid.UUID,
    times: Sequence[datetime],
    *,
    state: str = "scheduled",
    post_status: str = "scheduled",
    platform: str = "webhook",
    body: str = "Bulk post {i} about platform teams\nsecond line",
) -> list[uuid.UUID]:
    """One post and one publication per time, in a few executemany round trips; the post ids."""
    now = utcnow()
    posts: list[dict[str, Any]] = []
    pubs: list[dict[str, Any]] = []
    for i, at in enumerate(times):
        post_id = uuid.uuid4()
        posts.append(
            {
                "id": post_id,
                "workspace_id": workspace_id,
                "persona_id": persona_id,
                "body": body.format(i=i),
                "brief": "",
                "status": post_status,
                "platforms": [platform],
                "tags": [],
                "created_at": now,
                "updated_at": now,
            }
        )
        pubs.append(
            {
                "id": uuid.uuid4(),
                "workspace_id": workspace_id,
                "post_id": post_id,
                "connection_id": connection_id,
                "platform": platform,
                "scheduled_at": at,
                "next_attempt_at": at,
                "state": state,
                "idempotency_key": uuid.uuid4().hex,
                "parts_published": [],
                "errors": [],
                "created_at": now,
                "updated_at": now,
            }
        )
    with session_factory.begin() as s:
        for start in range(0, len(posts), 5000):
            s.execute(insert(Post.__table__), posts[start : start + 5000])
            s.execute(insert(Publication.__table__), pubs[start : start + 5000])
    return [p["id"] for p in posts]


@contextmanager
def counting(engine: Any) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (with their parameters) run on ``engine`` inside the block."""
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
