"""Scheduling through the API: persona slots in local time, explicit times, calendar, feed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from tests.conftest import Actor
from tests.publishing.conftest import approved_post

BERLIN = ZoneInfo("Europe/Berlin")


def test_no_at_takes_next_tuesday_or_thursday_0630_berlin(
    owner: Actor, setup: dict[str, Any], session_factory: Any
) -> None:
    post_id = approved_post(session_factory, owner, setup["persona"]["id"])
    r = owner.post(f"/api/v1/content/{post_id}/schedule", json={})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["status"] == "scheduled"
    assert {p["platform"] for p in data["publications"]} == {"webhook", "bluesky"}
    for pub in data["publications"]:
        assert pub["scheduled_at"].endswith("Z")
        local = datetime.fromisoformat(pub["scheduled_at"]).astimezone(BERLIN)
        assert (local.weekday(), local.hour, local.minute) in {(1, 6, 30), (3, 6, 30)}
        assert local > datetime.now(UTC)
        assert pub["state"] == "scheduled"


def test_one_post_per_slot_per_connection(
    owner: Actor, setup: dict[str, Any], session_factory: Any
) -> None:
    first = approved_post(session_factory, owner, setup["persona"]["id"], ["webhook"])
    second = approved_post(session_factory, owner, setup["persona"]["id"], ["webhook"])
    a = owner.post(f"/api/v1/content/{first}/schedule").json()["publications"][0]["scheduled_at"]
    b = owner.post(f"/api/v1/content/{second}/schedule").json()["publications"][0]["scheduled_at"]
    assert b > a
    gap = datetime.fromisoformat(b) - datetime.fromisoformat(a)
    assert timedelta(days=1) < gap <= timedelta(days=5)


def test_explicit_time_and_connection_subset(
    owner: Actor, setup: dict[str, Any], session_factory: Any
) -> None:
    post_id = approved_post(session_factory, owner, setup["persona"]["id"])
    at = (datetime.now(UTC) + timedelta(days=2)).astimezone(ZoneInfo("America/New_York"))
    r = owner.post(
        f"/api/v1/content/{post_id}/schedule",
        json={
            "at": at.isoformat(),
            "connection_ids": [setup["connections"]["bluesky"]],
            "priority": 3,
        },
    )
    assert r.status_code == 200, r.text
    [pub] = r.json()["publications"]
    assert pub["platform"] == "bluesky"
    assert datetime.fromisoformat(pub["scheduled_at"]) == at.replace(microsecond=at.microsecond)


@pytest.mark.parametrize(
    ("at", "fragment"),
    [
        ("2020-01-01T06:30:00+01:00", "in the past"),
        ("2099-01-01T06:30:00", "no UTC offset"),
        ("tomorrow", "datetime"),
    ],
)
def test_bad_times_are_refused_and_nothing_is_created(
    owner: Actor, setup: dict[str, Any], session_factory: Any, at: str, fragment: str
) -> None:
    post_id = approved_post(session_factory, owner, setup["persona"]["id"])
    r = owner.post(f"/api/v1/content/{post_id}/schedule", json={"at": at})
    assert r.status_code == 422
    assert fragment in r.text
    assert owner.get(f"/api/v1/content/{post_id}/schedule").json()["publications"] == []


def test_only_approved_posts(owner: Actor, setup: dict[str, Any], session_factory: Any) -> None:
    post_id = approved_post(session_factory, owner, setup["persona"]["id"], status="draft")
    r = owner.post(f"/api/v1/content/{post_id}/schedule")
    assert r.status_code == 409
    assert r.json()["current_status"] == "draft"
    assert "draft" in r.json()["detail"]


def test_no_active_connection_is_409(
    owner: Actor, setup: dict[str, Any], session_factory: Any
) -> None:
    post_id = approved_post(session_factory, owner, setup["persona"]["id"], ["linkedin"])
    r = owner.post(f"/api/v1/content/{post_id}/schedule")
    assert r.status_code == 409
    assert "connect an account" in r.json()["detail"]


def test_foreign_connection_is_404(
    owner: Actor, outsider: Actor, setup: dict[str, Any], session_factory: Any
) -> None:
    post_id = approved_post(session_factory, owner, setup["persona"]["id"])
    r = owner.post(
        f"/api/v1/content/{post_id}/schedule", json={"connection_ids": [str(uuid.uuid4())]}
    )
    assert r.status_code == 404


def test_reschedule_unschedule_cancel(
    owner: Actor, setup: dict[str, Any], session_factory: Any
) -> None:
    post_id = approved_post(session_factory, owner, setup["persona"]["id"])
    owner.post(f"/api/v1/content/{post_id}/schedule")
    new_at = "2099-03-01T09:00:00+01:00"
    r = owner.patch(f"/api/v1/content/{post_id}/schedule", json={"at": new_at})
    assert r.status_code == 200
    assert {p["scheduled_at"] for p in r.json()["publications"]} == {"2099-03-01T08:00:00Z"}
    assert (
        owner.patch(
            f"/api/v1/content/{post_id}/schedule", json={"at": "2001-01-01T00:00:00Z"}
        ).status_code
        == 422
    )
    r = owner.delete(f"/api/v1/content/{post_id}/schedule")
    assert r.json()["status"] == "approved"
    assert {p["state"] for p in r.json()["publications"]} == {"cancelled"}
    assert (
        owner.patch(f"/api/v1/content/{post_id}/schedule", json={"at": new_at}).status_code == 409
    )
    owner.post(f"/api/v1/content/{post_id}/schedule")
    r = owner.post(f"/api/v1/content/{post_id}/cancel")
    assert r.json()["status"] == "cancelled"


def test_jitter_is_applied_and_stored(
    owner: Actor, setup: dict[str, Any], session_factory: Any
) -> None:
    owner.patch(f"/api/v1/personas/{setup['persona']['id']}", json={"jitter_minutes": 30})
    post_id = approved_post(session_factory, owner, setup["persona"]["id"], ["webhook"])
    [pub] = owner.post(f"/api/v1/content/{post_id}/schedule").json()["publications"]
    slot = datetime.fromisoformat(pub["slot_at"])
    at = datetime.fromisoformat(pub["scheduled_at"])
    assert timedelta(0) <= at - slot <= timedelta(minutes=30)


def test_calendar_range_and_persona_filter(
    owner: Actor, setup: dict[str, Any], session_factory: Any
) -> None:
    post_id = approved_post(session_factory, owner, setup["persona"]["id"], ["webhook"])
    owner.post(f"/api/v1/content/{post_id}/schedule", json={"at": "2099-05-05T10:00:00Z"})
    r = owner.get(
        "/api/v1/calendar", params={"start": "2099-05-01T00:00:00Z", "end": "2099-06-01T00:00:00Z"}
    )
    assert r.status_code == 200
    [item] = r.json()["items"]
    assert item["persona_name"] == "Dana"
    assert item["title"] == "A post about platform teams"
    r = owner.get(
        "/api/v1/calendar",
        params={
            "start": "2099-05-01T00:00:00Z",
            "end": "2099-06-01T00:00:00Z",
            "persona_id": str(uuid.uuid4()),
        },
    )
    assert r.json()["items"] == []
    r = owner.get(
        "/api/v1/calendar", params={"start": "2099-06-01T00:00:00Z", "end": "2099-05-01T00:00:00Z"}
    )
    assert r.status_code == 422
    r = owner.get(
        "/api/v1/calendar", params={"start": "2099-05-01T00:00:00", "end": "2099-06-01T00:00:00"}
    )
    assert r.status_code == 422


def test_ical_feed_is_valid_and_revocable(
    client: Any, owner: Actor, setup: dict[str, Any], session_factory: Any
) -> None:
    post_id = approved_post(session_factory, owner, setup["persona"]["id"], ["webhook"])
    at = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    owner.post(f"/api/v1/content/{post_id}/schedule", json={"at": at.isoformat()})
    url = owner.post("/api/v1/calendar/feed").json()["url"]
    path = url.removeprefix("http://testserver")
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(r.content)
    assert str(cal["VERSION"]) == "2.0"
    [event] = list(cal.walk("VEVENT"))
    assert event.decoded("DTSTART") == at
    assert "Dana" in str(event["SUMMARY"])
    assert event.get("DTSTAMP") is not None
    assert str(event["STATUS"]) == "TENTATIVE"
    owner.delete("/api/v1/calendar/feed")
    assert client.get(path).status_code == 404


def test_jobs_summary(owner: Actor, setup: dict[str, Any], session_factory: Any) -> None:
    post_id = approved_post(session_factory, owner, setup["persona"]["id"], ["webhook"])
    owner.post(f"/api/v1/content/{post_id}/schedule")
    data = owner.get("/api/v1/jobs").json()
    assert data["by_state"] == {"scheduled": 1}
    assert data["due_now"] == 0
    assert data["scheduler_healthy"] is False


def test_a_stored_slot_that_never_advances_is_refused_promptly(
    owner: Actor, setup: dict[str, Any], session_factory: Any
) -> None:
    """A slot saved before RRULEs were checked (INTERVAL=0 spun forever with the write lock
    held): scheduling into it answers 422 at once, and an explicit time still works."""
    from sqlalchemy import update

    from digipersona.models import Persona
    from tests.scheduling.test_rrules import finishes

    with session_factory.begin() as s:
        s.execute(
            update(Persona)
            .where(Persona.id == uuid.UUID(setup["persona"]["id"]))
            .values(slots=["FREQ=WEEKLY;INTERVAL=0"])
        )
    post_id = approved_post(session_factory, owner, setup["persona"]["id"])
    (r,) = finishes(lambda: owner.post(f"/api/v1/content/{post_id}/schedule", json={}))
    assert r.status_code == 422, r.text
    assert "INTERVAL" in r.text
    at = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    (explicit,) = finishes(
        lambda: owner.post(f"/api/v1/content/{post_id}/schedule", json={"at": at})
    )
    assert explicit.status_code == 200, explicit.text
