"""The dashboard's content tab: a fixed number of queries and bounded lists, however long the history."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from digipersona.kit.time import utcnow
from digipersona.models import Connection
from tests.conftest import Actor
from tests.publishing.bulk import counting, seed
from tests.web.test_shell import web_login


def _world(owner: Actor, session_factory: Any) -> tuple[uuid.UUID, uuid.UUID]:
    persona = owner.post("/api/v1/personas", json={"name": "Dana"}).json()
    with session_factory.begin() as s:
        conn = Connection(
            workspace_id=owner.workspace_id,
            persona_id=uuid.UUID(persona["id"]),
            platform="webhook",
            account_id="acct",
            access_token_enc="x",
        )
        s.add(conn)
        s.flush()
        return uuid.UUID(persona["id"]), conn.id


def test_dashboard_runs_a_fixed_number_of_queries_and_shows_the_right_rows(
    app: Any, client: Any, owner: Actor, session_factory: Any
) -> None:
    persona_id, conn_id = _world(owner, session_factory)
    ws, now = owner.workspace_id, utcnow()

    def add(times: list[Any], state: str, status: str, body: str) -> None:
        seed(
            session_factory,
            ws,
            persona_id,
            conn_id,
            times,
            state=state,
            post_status=status,
            body=body,
        )

    add([now + timedelta(days=3)], "scheduled", "scheduled", "Later {i}")
    add([now - timedelta(days=3)], "published", "published", "Old published {i}")
    web_login(client, owner.email)
    client.get("/dashboard")
    with counting(app.state.engine) as statements:
        page = client.get("/dashboard")
    few = len(statements)
    assert "Later 0" in page.text and "Old published 0" in page.text

    # History: thousands of finished publications, a long review queue, a far future.
    add(
        [now - timedelta(days=1 + i / 10) for i in range(3000)],
        "published",
        "published",
        "History {i}",
    )
    add([now - timedelta(days=2)] * 200, "failed", "failed", "Failure {i}")
    add([now + timedelta(days=30 + i) for i in range(300)], "scheduled", "scheduled", "Far {i}")
    add([now + timedelta(hours=1 + i) for i in range(3)], "held", "scheduled", "Held soon {i}")
    add([now + timedelta(days=1)] * 1200, "cancelled", "in_review", "Review {i}")
    with counting(app.state.engine) as statements:
        page = client.get("/dashboard")
    assert len(statements) == few, [s for s, _ in statements]
    html = page.text
    # Upcoming: the three held ones come first (soonest), merged with scheduled ones in time.
    assert html.index("Held soon 0") < html.index("Held soon 2") < html.index("Later 0")
    assert html.count('<li class="state-scheduled">') + html.count('<li class="state-held">') == 8
    # Recent: the latest 8 finished across states (the failures were seeded last).
    assert html.count('<li class="state-failed">') == 8
    # Review count stops at 999 and says so; the list shows 5.
    assert '<span class="num">999+</span>' in html
    assert html.count("Review ") == 5
    assert len(page.content) < 40_000
