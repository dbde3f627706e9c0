"""Every list pages by cursor in an index's order, with a fixed number of queries and bounded
responses however long the history (20,000 rows of each, on SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from digipersona.kit.pagination import COUNT_CAP, MAX_CURSOR_LENGTH, decode_cursor, encode_cursor
from digipersona.kit.repository import Repository
from digipersona.kit.time import utcnow
from digipersona.models import (
    AutopilotRun,
    Connection,
    Interaction,
    MetricSnapshot,
    Notification,
    Post,
    Publication,
)
from digipersona.publishing import summary
from tests.conftest import Actor
from tests.web.test_shell import web_login

BIG = 20_000
STATUSES = ("draft", "in_review", "published")


@dataclass
class World:
    owner: Actor
    engine: Engine
    factory: sessionmaker[Session]
    persona_id: str
    connection_id: uuid.UUID
    seeded: int = 0

    def seed(self, n: int) -> None:
        """``n`` more posts (each published, with a metrics reading), interactions, runs and
        notifications, in Core bulk inserts.

        Every third row shares its timestamp with its neighbours, so ties are paged too.
        """
        ws, persona = self.owner.workspace_id, uuid.UUID(self.persona_id)
        base = utcnow() - timedelta(days=30)
        rows = range(self.seeded, self.seeded + n)
        at = {i: base + timedelta(seconds=i // 3) for i in rows}
        post_ids = {i: uuid.uuid4() for i in rows}
        pub_ids = {i: uuid.uuid4() for i in rows}
        with self.engine.begin() as conn:
            conn.execute(
                insert(Post),
                [
                    {
                        "id": post_ids[i],
                        "workspace_id": ws,
                        "persona_id": persona,
                        "body": f"post {i}",
                        "status": STATUSES[i % 3],
                        "platforms": ["x"],
                        "created_at": at[i],
                        "updated_at": at[i],
                    }
                    for i in rows
                ],
            )
            conn.execute(
                insert(Publication),
                [
                    {
                        "id": pub_ids[i],
                        "workspace_id": ws,
                        "post_id": post_ids[i],
                        "connection_id": self.connection_id,
                        "platform": "x",
                        "scheduled_at": at[i],
                        "next_attempt_at": at[i],
                        "state": "published",
                        "published_at": at[i],
                        "idempotency_key": uuid.uuid4().hex,
                        "external_id": str(i),
                        "created_at": at[i],
                        "updated_at": at[i],
                    }
                    for i in rows
                ],
            )
            conn.execute(
                insert(MetricSnapshot),
                [
                    {
                        "id": uuid.uuid4(),
                        "workspace_id": ws,
                        "publication_id": pub_ids[i],
                        "taken_at": at[i] + timedelta(hours=hours),
                        "stage": stage,
                        "likes": i % 50 + stage,
                        "reposts": i % 7,
                        "replies": 0,
                        "quotes": 0,
                        "impressions": 100 + i % 1000,
                    }
                    for i in rows
                    for stage, hours in enumerate((1, 6))
                ],
            )
            conn.execute(
                insert(Interaction),
                [
                    {
                        "id": uuid.uuid4(),
                        "workspace_id": ws,
                        "persona_id": persona,
                        "connection_id": self.connection_id,
                        "platform": "x",
                        "external_id": str(1_000_000 + i),
                        "kind": "mention",
                        "text": f"mention {i}",
                        "is_lead": i % 5 == 0,
                        "platform_created_at": at[i],
                        "received_at": at[i],
                        "created_at": at[i],
                        "updated_at": at[i],
                    }
                    for i in rows
                ],
            )
            conn.execute(
                insert(AutopilotRun),
                [
                    {
                        "id": uuid.uuid4(),
                        "workspace_id": ws,
                        "persona_id": persona,
                        "source": "rule",
                        "status": "done",
                        "started_at": at[i],
                        "created_at": at[i],
                        "updated_at": at[i],
                    }
                    for i in rows
                ],
            )
            conn.execute(
                insert(Notification),
                [
                    {
                        "id": uuid.uuid4(),
                        "workspace_id": ws,
                        "user_id": self.owner.user_id,
                        "kind": "post.failed",
                        "title": f"note {i}",
                        "created_at": at[i],
                        "updated_at": at[i],
                    }
                    for i in rows
                ],
            )
            if self.engine.dialect.name == "postgresql":
                # What autovacuum does in production: the planner sees the tables' real size.
                for table in (
                    "posts",
                    "publications",
                    "metric_snapshots",
                    "interactions",
                    "autopilot_runs",
                    "notifications",
                ):
                    conn.exec_driver_sql(f"ANALYZE {table}")
        with self.factory.begin() as session:
            summary.rebuild(session, ws)  # what the engine and the metrics sync keep
        self.seeded += n


@pytest.fixture
def world(app: Any, client: Any, owner: Actor) -> World:
    r = owner.post("/api/v1/personas", json={"name": "Dana"})
    assert r.status_code == 201, r.text
    persona_id = r.json()["id"]
    factory: sessionmaker[Session] = app.state.sessionmaker
    with factory.begin() as s:
        connection = Connection(
            workspace_id=owner.workspace_id,
            persona_id=uuid.UUID(persona_id),
            platform="x",
            account_id="42",
            access_token_enc="unused",
        )
        s.add(connection)
        s.flush()
        connection_id = connection.id
    assert web_login(client, owner.email).status_code == 303
    return World(owner, app.state.engine, factory, persona_id, connection_id)


@contextmanager
def recorded(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement sent to the database meanwhile, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: Any) -> None:
        seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", grab)


def plan(engine: Engine, statement: str, params: Any) -> str:
    """The database's plan for a statement, one line per step."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
            return "\n".join(str(r[-1]) for r in rows)
        rows = conn.exec_driver_sql("EXPLAIN " + statement, params).all()
        return "\n".join(str(r[0]) for r in rows)


def week_ago() -> datetime:
    return (utcnow() - timedelta(days=7)).replace(hour=0, minute=0, second=0, microsecond=0)


# (path, params, the table whose ORDER BY must come from an index)
def targets(world: World) -> list[tuple[str, dict[str, str], str]]:
    runs = f"/api/v1/personas/{world.persona_id}/autopilot/runs"
    return [
        ("/api/v1/content", {}, "posts"),
        ("/api/v1/content", {"status": "in_review"}, "posts"),
        ("/api/v1/content", {"persona_id": world.persona_id}, "posts"),
        ("/api/v1/content", {"limit": "200"}, "posts"),
        ("/api/v1/personas", {}, ""),
        ("/api/v1/interactions", {}, "interactions"),
        ("/api/v1/interactions", {"status": "new"}, "interactions"),
        ("/api/v1/interactions", {"persona_id": world.persona_id}, "interactions"),
        (runs, {}, "autopilot_runs"),
        ("/api/v1/notifications", {}, "notifications"),
        ("/api/v1/notifications", {"unread": "true"}, "notifications"),
        ("/content", {}, "posts"),
        ("/approvals", {}, "posts"),
        ("/interactions", {}, "interactions"),
        ("/notifications", {}, "notifications"),
        ("/personas", {}, ""),
        ("/dashboard", {}, ""),
        ("/dashboard", {"tab": "analytics"}, ""),
        ("/interactions/panel", {}, "interactions"),
        ("/api/v1/analytics", {}, ""),
        ("/api/v1/analytics", {"persona_id": world.persona_id, "platform": "x"}, ""),
        ("/analytics", {}, ""),
        ("/analytics", {"persona_id": world.persona_id, "days": "365"}, ""),
        # The last week: none of the seeded history, which its plan must not read.
        ("/api/v1/analytics", {"start": week_ago().isoformat()}, "week"),
        ("/analytics", {"days": "7"}, "week"),
    ]


def fetch(world: World, path: str, params: dict[str, str]) -> Any:
    if path.startswith("/api/"):
        return world.owner.get(path, params=params)
    return world.owner.client.get(path, params=params, headers={"accept": "text/html"})


def query_counts(world: World) -> dict[str, int]:
    counts = {}
    for path, params, _ in targets(world):
        fetch(world, path, params)  # warm-up: one-off writes (token last use) happen here
        with recorded(world.engine) as seen:
            r = fetch(world, path, params)
        assert r.status_code == 200, (path, r.text[:500])
        counts[f"{path} {params}"] = len(seen)
    return counts


def test_lists_cost_the_same_at_3_and_at_20000_rows(world: World) -> None:
    world.seed(3)
    small = query_counts(world)
    world.seed(BIG)
    assert query_counts(world) == small

    for path, params, table in targets(world):
        with recorded(world.engine) as seen:
            r = fetch(world, path, params)
        assert r.status_code == 200, r.text[:500]
        if "analytics" in path:
            assert_analytics_bounded(world, path, table == "week", r, seen)
            continue
        if path.startswith("/api/"):
            data = r.json()
            items = data if isinstance(data, list) else data["items"]
            assert len(items) == int(params.get("limit", 50)) or table == "", path
            assert len(r.content) < 1_000_000, (path, len(r.content))
            if isinstance(data, dict) and table:
                # More than COUNT_CAP match: the count stopped there; a third is exact.
                third = sum(1 for i in range(world.seeded) if i % 3 == 1)
                wanted = third if params.get("status") == "in_review" else None
                assert data["total"] == wanted and data["next_cursor"], path
        else:
            assert len(r.content) < 400_000, (path, len(r.content))
        if not table:
            continue  # the workspace's one persona: nothing to serve from an index
        ordered = [
            (s, p) for s, p in seen if f"FROM {table}" in s and "ORDER BY" in s and "LIMIT" in s
        ]
        assert ordered, (path, "no page query")
        for statement, p in ordered:
            steps = plan(world.engine, statement, p)
            assert f"SCAN {table}" not in steps and f"Seq Scan on {table}" not in steps, steps
            # The index gives the order: no sort of the matches. (The inbox's ties on one
            # timestamp are ordered among themselves: "RIGHT PART" / "Incremental Sort".)
            assert "USE TEMP B-TREE FOR ORDER BY" not in steps, (path, steps)
            sorts = [line for line in steps.splitlines() if re.search(r"Sort\s+\(cost", line)]
            assert all("Incremental Sort" in line for line in sorts), (path, steps)


def assert_analytics_bounded(world: World, path: str, week: bool, r: Any, seen: list[Any]) -> None:
    """Every seeded publication counts and the answer stays small; a range outside the history
    reads none of it (no statement scans the publications or metrics history tables)."""
    if path.startswith("/api/"):
        data = r.json()
        expected = 0 if week else world.seeded
        assert data["posts"] == data["measured_posts"] == expected, path
        assert len(data["top_posts"]) == (0 if week else 5) and len(data["trend"]) <= 92
    assert len(r.content) < 400_000, (path, len(r.content))
    if not week:
        return  # the whole seeded history is in range: a scan may be the best plan
    for statement, p in seen:
        if "publications" not in statement and "metric_snapshots" not in statement:
            continue
        steps = plan(world.engine, statement, p)
        for table in ("publications", "metric_snapshots"):
            assert f"SCAN {table}" not in steps, (path, statement, steps)
            assert f"Seq Scan on {table}" not in steps, (path, statement, steps)


def _walk(owner: Actor, path: str, **params: Any) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        r = owner.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        data = r.json()
        pages.append(data["items"])
        cursor = data["next_cursor"]
        if cursor is None:
            return pages


def test_cursors_walk_every_row_once_in_order_and_back(world: World) -> None:
    world.seed(11)
    owner = world.owner
    with world.factory() as s:
        expected = [
            str(i)
            for i in s.scalars(
                select(Post.id)
                .where(Post.workspace_id == owner.workspace_id)
                .order_by(Post.created_at.desc(), Post.id.desc())
            )
        ]
    pages = _walk(owner, "/api/v1/content", limit=3)
    assert [len(p) for p in pages] == [3, 3, 3, 2]
    assert [i["id"] for page in pages for i in page] == expected

    first = owner.get("/api/v1/content", params={"limit": 3}).json()
    assert first["total"] == 11 and first["prev_cursor"] is None
    second = owner.get("/api/v1/content", params={"limit": 3, "cursor": first["next_cursor"]})
    third = owner.get(
        "/api/v1/content", params={"limit": 3, "cursor": second.json()["next_cursor"]}
    ).json()
    assert third["prev_cursor"], third
    back = owner.get("/api/v1/content", params={"limit": 3, "cursor": third["prev_cursor"]})
    assert back.status_code == 200, (third["prev_cursor"], back.text)
    assert back.json()["items"] == second.json()["items"]
    # Back from the second page is the first page, which has no previous one.
    top = owner.get("/api/v1/content", params={"limit": 3, "cursor": back.json()["prev_cursor"]})
    assert top.json()["items"] == first["items"] and top.json()["prev_cursor"] is None
    # Offsets still work for old clients.
    old = owner.get("/api/v1/content", params={"limit": 3, "offset": 3}).json()
    assert old["items"] == second.json()["items"] and old["offset"] == 3

    # A filter keeps its own order and count.
    drafts = [i for page in _walk(owner, "/api/v1/content", limit=2, status="draft") for i in page]
    assert [i["id"] for i in drafts] == [
        i for i in expected if i in {d["id"] for d in drafts}
    ] and len(drafts) == 4
    inbox = [i for page in _walk(owner, "/api/v1/interactions", limit=4) for i in page]
    assert [i["external_id"] for i in inbox] == [str(1_000_000 + i) for i in range(10, -1, -1)]
    runs = _walk(owner, f"/api/v1/personas/{world.persona_id}/autopilot/runs", limit=5)
    assert sum(len(p) for p in runs) == 11

    # The notification list stays a plain array; the next page is in the Link header.
    r = owner.get("/api/v1/notifications", params={"limit": 10})
    assert len(r.json()) == 10
    link = re.fullmatch(r'<([^>]+)>; rel="next"', r.headers["link"])
    assert link
    rest = owner.get(link.group(1))
    assert len(rest.json()) == 1 and "link" not in rest.headers


def _b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        "!!!!",
        _b64([1, 2]),
        _b64({"a": ["2026-01-01T00:00:00+00:00"]}),
        _b64({"a": ["2026-01-01T00:00:00", str(uuid.uuid4())]}),  # no zone
        _b64({"a": [5, str(uuid.uuid4())]}),
        _b64({"a": ["2026-01-01T00:00:00+00:00", "nope"]}),
        _b64({"x": ["2026-01-01T00:00:00+00:00", str(uuid.uuid4())]}),
        encode_cursor(["Dana", uuid.uuid4()]),  # a persona-list cursor
        _b64({"a": ["0001-01-01T00:00:00+05:00", str(uuid.uuid4())]}),  # before year 1 in UTC
        _b64({"a": ["2026-01-01T00:00:00+00:00", 3, "a\u0000b", str(uuid.uuid4())]}),
        "x" * 5000,
    ],
)
def test_a_malformed_cursor_is_422(world: World, cursor: str) -> None:
    for path in ("/api/v1/content", "/api/v1/interactions", "/api/v1/notifications"):
        r = world.owner.get(path, params={"cursor": cursor})
        assert r.status_code == 422, (path, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in r.json()["errors"]] == ["cursor"]


def test_cursor_and_offset_together_is_422(world: World) -> None:
    world.seed(3)
    cursor = world.owner.get("/api/v1/content", params={"limit": 1}).json()["next_cursor"]
    r = world.owner.get("/api/v1/content", params={"cursor": cursor, "offset": 1})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"


def test_pages_link_older_and_newer_by_cursor(world: World) -> None:
    world.seed(60)
    client = world.owner.client
    html = {"accept": "text/html"}
    first = client.get("/content", headers=html).text
    assert first.count('class="card post-row state-') == 50 and "60 posts" in first
    older = re.search(r'href="(/content\?cursor=[^"]+)" rel="next">Older<', first)
    assert older and 'rel="prev"' not in first, first[first.find("pager") - 200 :]
    second = client.get(older.group(1).replace("&amp;", "&"), headers=html).text
    assert second.count('class="card post-row state-') == 10 and 'rel="next"' not in second
    newer = re.search(r'href="(/content\?cursor=[^"]+)" rel="prev">Newer<', second)
    assert newer
    again = client.get(newer.group(1), headers=html).text
    assert again.count('class="card post-row state-') == 50
    # Filters travel with the cursor.
    drafts = client.get("/interactions", params={"status": "new"}, headers=html).text
    link = re.search(r'href="(/interactions\?status=new&amp;cursor=[^"]+)" rel="next"', drafts)
    assert link, drafts
    bad = client.get("/content", params={"cursor": "garbage"}, headers=html)
    assert bad.status_code == 422 and "cursor" in bad.text


def test_count_reads_no_order_and_a_capped_count_stops(world: World) -> None:
    world.seed(7)

    class Posts(Repository[Post]):
        model = Post

    stmt = select(Post).where(Post.workspace_id == world.owner.workspace_id)
    ordered = stmt.order_by(Post.created_at.desc(), Post.id)
    with world.factory() as s, recorded(world.engine) as seen:
        assert Posts(s).count(ordered) == 7
        assert Posts(s).count_capped(ordered, 10) == 7
        assert Posts(s).count_capped(ordered, 7) == 7
        assert Posts(s).count_capped(ordered, 6) is None
    counts = [statement for statement, _ in seen if statement.startswith("SELECT")]
    assert len(counts) == 4 and not any("ORDER BY" in statement for statement in counts)
    assert COUNT_CAP == 10_000


def test_personas_page_by_name(world: World) -> None:
    for name in ("Bea", "Cleo", "Ana"):
        assert world.owner.post("/api/v1/personas", json={"name": name}).status_code == 201
    pages = _walk(world.owner, "/api/v1/personas", limit=3)
    assert [[p["name"] for p in page] for page in pages] == [["Ana", "Bea", "Cleo"], ["Dana"]]


def test_the_longest_inbox_key_fits_in_a_cursor() -> None:
    key = (utcnow(), 512, "\N{GRINNING FACE}" * 512, uuid.uuid4())
    cursor = encode_cursor(key)
    assert len(cursor) <= MAX_CURSOR_LENGTH
    assert decode_cursor(cursor, [datetime, int, str, uuid.UUID]) == (False, key)
    before = encode_cursor(key, before=True)
    assert decode_cursor(before, [datetime, int, str, uuid.UUID]) == (True, key)
