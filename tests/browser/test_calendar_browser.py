"""The calendar's "+N more": it loads the rest of a busy day in place (no inline script), and
the loaded posts can be dragged like the others; the week in time rows, and as a day list on a
360 px phone."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from digipersona import db
from digipersona.models import Connection, Persona, Workspace
from digipersona.publishing.views import MONTH_PER_DAY, WEEK_PER_DAY
from tests.browser.conftest import register
from tests.browser.test_offline_approvals import api
from tests.publishing.bulk import seed


def test_more_loads_the_rest_of_a_busy_day_and_its_posts_drag(
    context: Any, live_server: str, tmp_path: Path
) -> None:
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    register(page, live_server, email="busy@example.com")
    persona = (
        api(live_server, "busy@example.com")
        .post("/api/v1/personas", json={"name": "Busy", "timezone": "Europe/Berlin"})
        .json()
    )
    berlin = ZoneInfo("Europe/Berlin")
    day = date.today() + timedelta(days=2)
    first = datetime.combine(day, datetime.min.time(), berlin).replace(hour=8)
    engine = db.make_engine(f"sqlite:///{tmp_path / 'browser.db'}")
    factory = db.make_sessionmaker(engine)
    with db.write_scope(factory) as s:
        ws = s.scalars(select(Workspace)).one()
        conn = Connection(
            workspace_id=ws.id,
            persona_id=uuid.UUID(persona["id"]),
            platform="webhook",
            account_id="busy",
            access_token_enc="x",
        )
        s.add(conn)
        s.flush()
        ws_id, conn_id = ws.id, conn.id
        assert s.get(Persona, uuid.UUID(persona["id"])) is not None
    total = WEEK_PER_DAY + 10
    times = [first + timedelta(minutes=5 * i) for i in range(total)]
    post_ids = seed(factory, ws_id, uuid.UUID(persona["id"]), conn_id, times, body="Busy {i}")
    engine.dispose()

    # The week: a row per hour with posts shown, each day a column; the day shows its first
    # WEEK_PER_DAY posts (08:00 to 09:35 here) and links to the rest (up to 10:25).
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/calendar?view=week&date={day.isoformat()}")
    assert page.locator(".wk-hour").all_inner_texts() == ["08:00", "09:00"]
    week_cells = page.locator(f'.wk-cell[data-date="{day.isoformat()}"]')
    assert week_cells.locator(".cal-item").count() == WEEK_PER_DAY
    head = page.locator(f".wk-head.wk-d{day.weekday()}")
    assert head.locator(".cal-more").inner_text() == "+10 more"
    head_box, cell_box = head.bounding_box(), week_cells.first.bounding_box()
    hour_box = page.locator(".wk-hour").first.bounding_box()
    assert head_box and cell_box and hour_box
    assert abs(head_box["x"] - cell_box["x"]) < 2  # the day's column
    assert abs(hour_box["y"] - cell_box["y"]) < 10  # the hour's row
    # A 360 px phone: a list of days, each heading above its posts, nothing wider than the screen.
    page.set_viewport_size({"width": 360, "height": 800})
    assert page.locator(".wk-hour").first.is_hidden()
    head_box, cell_box = head.bounding_box(), week_cells.first.bounding_box()
    assert head_box and cell_box and head_box["y"] < cell_box["y"]
    assert cell_box["width"] > 300
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/calendar?start={day.isoformat()}")
    cell = page.locator(f'.cal-day[data-date="{day.isoformat()}"]')
    assert cell.locator(".cal-item").count() == MONTH_PER_DAY
    more = cell.locator(".cal-more")
    assert more.inner_text() == f"+{total - MONTH_PER_DAY} more"
    more.click()
    page.wait_for_function(
        "([d, n]) => document.querySelectorAll(`.cal-day[data-date='${d}'] .cal-item`).length === n",
        arg=[day.isoformat(), total],
    )
    assert page.url.startswith(f"{live_server}/calendar?")  # loaded in place, not navigated
    assert cell.locator(".cal-more").count() == 0

    # The last post came with "+N more"; drag it to the next day.
    last = post_ids[-1]
    target_day = day + timedelta(days=1)
    item = page.locator(f'.cal-item[data-post-id="{last}"]')
    target = page.locator(f'.cal-day[data-date="{target_day.isoformat()}"]')
    # The whole busy month in view: scrolling in the middle of a drag drops nothing.
    page.set_viewport_size({"width": 1280, "height": 3000})
    item.hover()
    page.mouse.down()
    target.hover()
    target.hover()
    page.mouse.up()
    page.wait_for_function(
        """([d, id]) => document.querySelector(`.cal-day[data-date='${d}'] .cal-item[data-post-id='${id}']`)
            || document.getElementById("cal-status").className === "field-error" """,
        arg=[target_day.isoformat(), str(last)],
    )
    assert "field-error" not in (page.locator("#cal-status").get_attribute("class") or "")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    page.close()
