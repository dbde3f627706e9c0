"""The calendar stays bounded at scale (#16): 20,000 publications, fixed query counts, index plans."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import text

from digipersona.kit.time import utcnow
from digipersona.publishing import calendar, dashboard
from tests.conftest import Actor
from tests.publishing.bulk import counting, seed
from tests.web.test_shell import web_login

BERLIN = ZoneInfo("Europe/Berlin")


def _ids(setup: dict[str, Any]) -> tuple[uuid.UUID, uuid.UUID]:
    return uuid.UUID(setup["persona"]["id"]), uuid.UUID(setup["connections"]["webhook"])


def _more_links(html: str) -> list[str]:
    return [m.replace("&amp;", "&") for m in re.findall(r'data-more="([^"]+)"', html)]


def test_twenty_thousand_publications_keep_every_calendar_answer_bounded(
    client: Any, owner: Actor, setup: dict[str, Any], session_factory: Any
) -> None:
    persona_id, connection_id = _ids(setup)
    base = date.today() + timedelta(days=10)
    first = datetime.combine(base, time(), BERLIN)
    step = timedelta(days=40) / 20_000
    times = [first + i * step for i in range(20_000)]
    seed(session_factory, owner.workspace_id, persona_id, connection_id, times)

    # API: six weeks at most; per-day counts of everything, the first 3 entries of each day.
    start, end = first.isoformat(), (first + timedelta(days=42)).isoformat()
    r = owner.get("/api/v1/calendar", params={"start": start, "end": end, "tz": "Europe/Berlin"})
    assert r.status_code == 200, r.text
    assert len(r.content) < 100_000
    data = r.json()
    assert sum(d["count"] for d in data["days"]) == 20_000
    assert len(data["days"]) == 42
    assert len(data["items"]) == 40 * 3
    busy = data["days"][1]
    assert busy["count"] == 500 and busy["next_cursor"]
    shown = [i["id"] for i in data["items"] if i["date"] == busy["date"]]
    assert len(shown) == 3

    # The rest of that day, a page at a time, in time order, nothing twice or left out.
    seen, cursor, pages = list(shown), busy["next_cursor"], 0
    while cursor:
        page = owner.get(
            "/api/v1/calendar/day",
            params={"date": busy["date"], "tz": "Europe/Berlin", "limit": 200, "cursor": cursor},
        ).json()
        assert page["count"] == 500 and len(page["items"]) <= 200
        stamps = [i["scheduled_at"] for i in page["items"]]
        assert stamps == sorted(stamps)
        seen += [i["id"] for i in page["items"]]
        cursor, pages = page["next_cursor"], pages + 1
    assert pages == 3 and len(seen) == len(set(seen)) == 500

    too_long = owner.get(
        "/api/v1/calendar",
        params={"start": start, "end": (first + timedelta(days=43)).isoformat()},
    )
    assert too_long.status_code == 422
    assert "at most 42 days" in too_long.json()["detail"]
    for bad in ("not-a-cursor", "e30", "W10", "WyJ4IiwgInkiXQ"):
        r = owner.get("/api/v1/calendar/day", params={"date": busy["date"], "cursor": bad})
        assert r.status_code == 422, (bad, r.text)
        assert "cursor" in r.json()["detail"]

    # Pages: the month is <= 150 KB with 3 posts a day and "+N more"; the week 20 a day.
    web_login(client, owner.email)
    month = client.get("/calendar", params={"start": base.isoformat()})
    assert month.status_code == 200
    assert len(month.content) <= 150_000
    assert month.text.count('class="cal-item') <= 42 * 3
    assert "+497 more" in month.text
    week = client.get("/calendar", params={"view": "week", "start": base.isoformat()})
    assert week.text.count('class="cal-item') <= 7 * 20
    assert "+480 more" in week.text
    # "+N more" loads the next page of the day as a fragment, with its own "+N more" (the
    # week's time rows link to the day's page instead).
    assert not _more_links(week.text)
    fragment = client.get(_more_links(month.text)[0])
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert fragment.text.count('class="cal-item') == calendar.DAY_PAGE
    assert "+447 more" in fragment.text
    # Without JavaScript the link opens the day's own page, paginated too.
    day_page = client.get("/calendar/day", params={"date": busy["date"]})
    assert day_page.text.count('class="cal-item') == calendar.DAY_PAGE
    assert "Next 50 of 450 more" in day_page.text

    # The iCalendar feed: a window around now and a row cap.
    url = owner.post("/api/v1/calendar/feed").json()["url"]
    feed = client.get(url.removeprefix("http://testserver"))
    events = list(icalendar.Calendar.from_ical(feed.content).walk("VEVENT"))
    assert len(events) == calendar.FEED_MAX_UPCOMING
    assert events[0].decoded("DTSTART") == times[0]


def test_calendar_requests_run_a_fixed_number_of_queries(
    app: Any, client: Any, owner: Actor, setup: dict[str, Any], session_factory: Any
) -> None:
    persona_id, connection_id = _ids(setup)
    base = date.today() + timedelta(days=10)
    first = datetime.combine(base, time(), BERLIN)
    seed(session_factory, owner.workspace_id, persona_id, connection_id, [first])
    web_login(client, owner.email)
    month = client.get("/calendar", params={"start": base.isoformat()}).text
    assert not _more_links(month)
    week_start = (base - timedelta(days=base.weekday())).isoformat()
    day_api = {"date": base.isoformat(), "tz": "Europe/Berlin", "limit": 5}

    def fragment_url() -> str:
        month = client.get("/calendar", params={"start": base.isoformat()}).text
        links = _more_links(month)
        return links[0] if links else f"/calendar/day?date={base.isoformat()}&fragment=1"

    requests: dict[str, Any] = {
        "api month": lambda: owner.get(
            "/api/v1/calendar",
            params={
                "start": first.isoformat(),
                "end": (first + timedelta(days=42)).isoformat(),
                "tz": "Europe/Berlin",
            },
        ),
        "api day": lambda: owner.get("/api/v1/calendar/day", params=day_api),
        "month": lambda: client.get("/calendar", params={"start": base.isoformat()}),
        "week": lambda: client.get("/calendar", params={"view": "week", "start": week_start}),
        "day": lambda: client.get("/calendar/day", params={"date": base.isoformat()}),
    }

    def measure() -> dict[str, int]:
        counts = {}
        for name, call in requests.items():
            with counting(app.state.engine) as statements:
                assert call().status_code == 200
            counts[name] = len(statements)
        url = fragment_url()
        with counting(app.state.engine) as statements:
            assert client.get(url).status_code == 200
        counts["fragment"] = len(statements)
        return counts

    few = measure()
    # 300 more over the same six weeks, 60 of them on the first day (past every per-day limit).
    times = [first + timedelta(minutes=i) for i in range(60)]
    times += [first + timedelta(days=1 + i % 40, minutes=i) for i in range(240)]
    seed(session_factory, owner.workspace_id, persona_id, connection_id, times)
    many = measure()
    assert many == few, (few, many)
    assert _more_links(client.get("/calendar", params={"start": base.isoformat()}).text)
    # The calendar itself reads once per view (auth and session queries come on top).
    assert few["api month"] <= 6 and few["month"] <= 7, few


def _plans(session: Any, statements: list[tuple[str, Any]]) -> list[str]:
    """The query plan of each captured SELECT, as text."""
    conn = session.connection()
    out = []
    for sql, params in statements:
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            continue
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
            out.append("\n".join(str(r[-1]) for r in rows))
        else:
            [(plan,)] = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}", params).all()
            out.append(json.dumps(plan if not isinstance(plan, str) else json.loads(plan)))
    return out


def _ordered_by(plan: str, index: str, backend: str) -> bool:
    """The plan reads ``index`` and sorts nothing (the index gives the order)."""
    if index not in plan:
        return False
    if backend == "sqlite":
        return "TEMP B-TREE" not in plan
    return '"Node Type": "Sort"' not in plan and '"Node Type": "Incremental Sort"' not in plan


def test_calendar_and_dashboard_queries_are_served_by_indexes(
    backend: str, owner: Actor, setup: dict[str, Any], session_factory: Any
) -> None:
    persona_id, connection_id = _ids(setup)
    now = utcnow()
    first = now + timedelta(days=1)
    seed(session_factory, owner.workspace_id, persona_id, connection_id, [first, first])
    seed(
        session_factory,
        owner.workspace_id,
        persona_id,
        connection_id,
        [now - timedelta(days=1)],
        state="published",
        post_status="in_review",
    )
    with session_factory() as s:
        engine = s.get_bind()
        if backend == "postgresql":
            # Tiny tables: let the planner show which index can serve each query.
            s.execute(text("ANALYZE publications, posts"))
            s.execute(text("SET LOCAL enable_seqscan = off"))
            s.execute(text("SET LOCAL enable_bitmapscan = off"))
        with counting(engine) as statements:
            calendar.day_page(s, owner.workspace_id, first.date(), ZoneInfo("UTC"))
        [count_plan, day_plan] = _plans(s, statements)
        assert _ordered_by(day_plan, "ix_publications_workspace_scheduled", backend), day_plan
        assert "ix_publications_workspace_scheduled" in count_plan, count_plan

        with counting(engine) as statements:
            calendar.overview(
                s, owner.workspace_id, now, now + timedelta(days=42), BERLIN, per_day=3
            )
        [overview_plan] = _plans(s, statements)
        # The window functions sort the range's ids; the range itself comes from the index.
        assert "ix_publications_workspace_scheduled" in overview_plan, overview_plan
        if backend == "sqlite":
            assert "SCAN publications" not in overview_plan, overview_plan

        with counting(engine) as statements:
            summary = dashboard.summary(s, owner.workspace_id, now)
        assert [p.state for p in summary.upcoming] == ["scheduled", "scheduled"]
        assert [p.state for p in summary.recent] == ["published"]
        _, in_review, review_count, upcoming, recent = _plans(s, statements)
        assert _ordered_by(in_review, "ix_posts_workspace_status_created", backend), in_review
        assert "ix_posts_workspace_status" in review_count, review_count
        assert _ordered_by(upcoming, "ix_publications_workspace_state_scheduled", backend)
        assert _ordered_by(recent, "ix_publications_workspace_state_updated", backend), recent


@pytest.mark.parametrize("cursor", ["", "%%%", "a" * 300])
def test_day_cursor_that_is_not_ours_is_422_not_500(
    owner: Actor, setup: dict[str, Any], cursor: str
) -> None:
    r = owner.get("/api/v1/calendar/day", params={"date": "2030-01-01", "cursor": cursor or "=="})
    assert r.status_code == 422, r.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"state": "nope"}, "Unknown state"),
        ({"tz": "Mars/Base"}, "Unknown time zone"),
        ({"per_day": "51"}, "per_day"),
    ],
)
def test_calendar_refuses_what_it_cannot_bound_or_name(
    owner: Actor, setup: dict[str, Any], params: dict[str, str], message: str
) -> None:
    r = owner.get(
        "/api/v1/calendar",
        params={"start": "2030-01-01T00:00:00Z", "end": "2030-02-01T00:00:00Z", **params},
    )
    assert r.status_code == 422, r.text
    assert message in r.text
