"""Calendar and Jobs pages, and drag-to-reschedule validated on the server."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Actor
from tests.publishing.conftest import approved_post
from tests.web.test_shell import csrf_from, web_login


def _schedule(owner: Actor, setup: dict[str, Any], session_factory: Any, at: datetime) -> str:
    post_id = approved_post(session_factory, owner, setup["persona"]["id"], ["webhook"])
    r = owner.post(f"/api/v1/content/{post_id}/schedule", json={"at": at.isoformat()})
    assert r.status_code == 200, r.text
    return post_id


def test_calendar_month_and_week_show_posts_in_persona_time(
    client: Any,
    owner: Actor,
    setup: dict[str, Any],
    session_factory: Any,
) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    at = datetime.combine(date.today() + timedelta(days=3), datetime.min.time(), berlin).replace(
        hour=6, minute=30
    )
    _schedule(owner, setup, session_factory, at)
    web_login(client, owner.email)
    page = client.get("/calendar", params={"start": at.date().isoformat()})
    assert page.status_code == 200
    assert "06:30" in page.text
    assert 'draggable="true"' in page.text
    assert "A post about platform teams" in page.text
    week = client.get("/calendar", params={"view": "week", "start": at.date().isoformat()})
    assert "06:30" in week.text
    assert "cal-week" in week.text
    filtered = client.get(
        "/calendar", params={"start": at.date().isoformat(), "state": "published"}
    )
    assert "A post about platform teams" not in filtered.text


def test_drag_to_another_day_keeps_local_time_and_validates(
    client: Any,
    owner: Actor,
    setup: dict[str, Any],
    session_factory: Any,
) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    at = datetime.combine(date.today() + timedelta(days=3), datetime.min.time(), berlin).replace(
        hour=6, minute=30
    )
    post_id = _schedule(owner, setup, session_factory, at)
    web_login(client, owner.email)
    token = csrf_from(client.get("/calendar").text)
    target = at.date() + timedelta(days=7)
    r = client.post(
        "/calendar/move",
        json={"post_id": post_id, "date": target.isoformat(), "tz": "Europe/Berlin"},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 200, r.text
    [pub] = owner.get(f"/api/v1/content/{post_id}/schedule").json()["publications"]
    moved = datetime.fromisoformat(pub["scheduled_at"]).astimezone(berlin)
    assert (moved.date(), moved.hour, moved.minute) == (target, 6, 30)
    r = client.post(
        "/calendar/move",
        json={"post_id": post_id, "date": "2001-01-01", "tz": "Europe/Berlin"},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 422
    assert "in the past" in r.json()["detail"]
    r = client.post("/calendar/move", json={"post_id": post_id, "date": target.isoformat()})
    assert r.status_code == 403


@pytest.mark.parametrize(
    "body",
    [b"[1, 2]", b'"2030-01-01"', b"null", b"42", b"{not json", b"\xff\xfe"],
    ids=["list", "string", "null", "number", "malformed", "not-utf8"],
)
def test_move_refuses_a_body_that_is_not_a_json_object(
    client: Any, owner: Actor, setup: dict[str, Any], session_factory: Any, body: bytes
) -> None:
    at = datetime.now(ZoneInfo("UTC")) + timedelta(days=3)
    post_id = _schedule(owner, setup, session_factory, at)
    web_login(client, owner.email)
    token = csrf_from(client.get("/calendar").text)
    headers = {"Content-Type": "application/json"}
    # Without the CSRF token the body is not even read.
    assert client.post("/calendar/move", content=body, headers=headers).status_code == 403
    r = client.post("/calendar/move", content=body, headers={**headers, "X-CSRF-Token": token})
    assert r.status_code == 400, r.text
    assert r.json() == {
        "ok": False,
        "detail": 'Send a JSON object: {"post_id": ..., "date": "YYYY-MM-DD"}.',
    }
    [pub] = owner.get(f"/api/v1/content/{post_id}/schedule").json()["publications"]
    assert abs(datetime.fromisoformat(pub["scheduled_at"]) - at) < timedelta(seconds=1)


def test_move_to_a_time_after_year_9999_in_utc_is_422(
    client: Any, owner: Actor, setup: dict[str, Any], session_factory: Any
) -> None:
    post_id = _schedule(
        owner, setup, session_factory, datetime.now(ZoneInfo("UTC")) + timedelta(days=3)
    )
    web_login(client, owner.email)
    token = csrf_from(client.get("/calendar").text)
    r = client.post(
        "/calendar/move",
        json={
            "post_id": post_id,
            "date": "9999-12-31",
            "tz": "Etc/GMT+12",
            "time": "23:59",
        },
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 422, r.text


def test_jobs_page(client: Any, owner: Actor, setup: dict[str, Any], session_factory: Any) -> None:
    web_login(client, owner.email)
    page = client.get("/jobs")
    assert page.status_code == 200
    assert "embedded mode" in page.text
    assert "no recent heartbeat" in page.text
