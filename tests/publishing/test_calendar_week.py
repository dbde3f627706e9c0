"""The week view in time rows, and "+N more" counting posts (a post on 2 networks is one)."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from digipersona.models import Publication
from tests.conftest import Actor
from tests.publishing.bulk import seed
from tests.web.test_shell import web_login

BERLIN = ZoneInfo("Europe/Berlin")


def _on_two_networks(
    session_factory: Any, setup: dict[str, Any], owner: Actor, times: list[datetime]
) -> list[uuid.UUID]:
    """Posts at ``times``, each on webhook and on Bluesky (two publications, one post)."""
    persona_id = uuid.UUID(setup["persona"]["id"])
    webhook = uuid.UUID(setup["connections"]["webhook"])
    bluesky = uuid.UUID(setup["connections"]["bluesky"])
    post_ids = seed(session_factory, owner.workspace_id, persona_id, webhook, times)
    with session_factory.begin() as s:
        rows = s.execute(select(Publication.__table__).where(Publication.post_id.in_(post_ids)))
        copies = []
        for row in rows.mappings():
            copy = dict(row)
            copy.update(
                id=uuid.uuid4(),
                connection_id=bluesky,
                platform="bluesky",
                idempotency_key=uuid.uuid4().hex,
            )
            copies.append(copy)
        s.execute(insert(Publication.__table__), copies)
    return post_ids


def test_month_more_counts_posts_and_week_has_time_rows(
    client: Any, owner: Actor, setup: dict[str, Any], session_factory: Any
) -> None:
    day = date.today() + timedelta(days=9)
    nine = datetime.combine(day, time(9), BERLIN)
    times = [nine + timedelta(minutes=i) for i in range(5)] + [nine.replace(hour=14)]
    _on_two_networks(session_factory, setup, owner, times)
    web_login(client, owner.email)

    # The month shows its first 3 publications (post 1 on both networks, post 2 on webhook):
    # two posts are shown, four are left, whatever networks they go to (not 12 - 3 = 9).
    month = client.get("/calendar", params={"start": day.isoformat()}).text
    assert "+4 more" in month
    assert "+9 more" not in month

    # The week: a row per local hour with posts, each post once with both network icons.
    persona_id = setup["persona"]["id"]
    week = client.get(
        "/calendar", params={"view": "week", "date": day.isoformat(), "persona_id": persona_id}
    )
    assert week.status_code == 200
    html = week.text
    assert "week-grid" in html
    hours = re.findall(r'<div class="wk-hour"[^>]*>(\d\d:\d\d)</div>', html)
    assert hours == ["09:00", "14:00"]
    assert html.count('class="cal-item') == 6
    assert html.count('class="wk-head') == 7
    assert "6 posts" in html
    assert html.count("picon-bluesky") == html.count("picon-webhook") == 6
    # The chips keep the month's cues: the post on hover, its time in the persona's zone.
    assert "09:04" in html and "14:00" in html and 'role="tooltip"' in html
    # Prev/next and the Month switch keep the filters and the view.
    first = day - timedelta(days=day.weekday())
    prev = (first - timedelta(days=7)).isoformat()
    assert f"?view=week&start={prev}&persona_id={persona_id}" in html.replace("&amp;", "&")
    assert f"?view=month&start={day.isoformat()}&persona_id={persona_id}" in html.replace(
        "&amp;", "&"
    )

    # A week with nothing in it says so instead of drawing an empty grid.
    empty = client.get("/calendar", params={"view": "week", "date": "2001-01-01"}).text
    assert "No posts this week" in empty
    assert 'class="wk-hour"' not in empty


def test_day_fragment_counts_posts_left(
    client: Any, owner: Actor, setup: dict[str, Any], session_factory: Any
) -> None:
    day = date.today() + timedelta(days=9)
    nine = datetime.combine(day, time(9), BERLIN)
    _on_two_networks(
        session_factory, setup, owner, [nine + timedelta(minutes=i) for i in range(60)]
    )
    web_login(client, owner.email)
    month = client.get("/calendar", params={"start": day.isoformat()}).text
    assert "+58 more" in month
    link = re.findall(r'data-more="([^"]+)"', month)[0].replace("&amp;", "&")
    fragment = client.get(link).text
    # The month showed post 1 on both networks and post 2 on one; the next 50 publications are
    # post 2's other network, posts 3 to 26 and post 27's first: 27 posts begun, 33 left.
    assert fragment.count('class="cal-item') == 26
    assert "+33 more" in fragment
