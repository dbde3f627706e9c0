from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from digipersona.models import Persona
from tests.conftest import Actor

FULL = {
    "name": "Dana",
    "bio": "Platform engineer",
    "voice": "warm, direct",
    "topics": ["platform teams", "developer experience"],
    "audience": "engineering managers",
    "language": "de",
    "hashtags": ["devops", "#PlatformEngineering", "#DevOps"],
    "banned_phrases": ["synergy"],
    "example_posts": ["We shipped a thing."],
    "approval_policy": "auto_approve",
    "timezone": "Europe/Berlin",
    "slots": ["RRULE:FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0"],
}


def test_create_with_every_field_and_read_back(owner: Actor) -> None:
    r = owner.post("/api/v1/personas", json=FULL)
    assert r.status_code == 201, r.text
    data = r.json()
    assert data["id"]
    assert data["hashtags"] == ["#devops", "#PlatformEngineering"]
    assert data["slots"] == ["FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0"]
    for key in ("name", "voice", "topics", "language", "approval_policy", "timezone"):
        assert data[key] == FULL[key]
    assert owner.get(f"/api/v1/personas/{data['id']}").json() == data


def test_defaults(owner: Actor) -> None:
    data = owner.post("/api/v1/personas", json={"name": "Min"}).json()
    assert data["slots"] == ["FREQ=WEEKLY;BYDAY=TU,TH;BYHOUR=6;BYMINUTE=30"]
    assert data["approval_policy"] == "require_approval"
    assert data["timezone"] == "UTC"
    assert data["language"] == "en"


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone", "Unknown time zone"),
        ({"timezone": "../../etc/passwd"}, "timezone", "not a time zone"),
        ({"slots": ["FREQ=SOMETIMES"]}, "slots", "FREQ=SOMETIMES is not allowed"),
        ({"slots": ["BYDAY=TU"]}, "slots", "no FREQ"),
        ({"slots": ["FREQ=WEEKLY;BYDAY=XX"]}, "slots", "not a valid RRULE"),
        ({"slots": ["FREQ=MINUTELY"]}, "slots", "HOURLY or coarser"),
        ({"slots": ["DTSTART:20260101T000000\nRRULE:FREQ=DAILY"]}, "slots", "DTSTART"),
        ({"slots": []}, "slots", "at least one"),
        ({"name": "x" * 101}, "name", "at most 100"),
        ({"bio": "x" * 2001}, "bio", "at most 2000"),
        ({"language": "english please"}, "language", "language code"),
        ({"hashtags": ["not a tag"]}, "hashtags", "not a hashtag"),
        ({"approval_policy": "yolo"}, "approval_policy", "require_approval"),
        ({"unknown": 1}, "unknown", "unknown field"),
        ({"topics": ["x" * 101]}, "topics.0", "at most 100"),
        ({"blocked_domains": ["not a domain"]}, "blocked_domains", "domain name"),
    ],
)
def test_bad_input_is_422_with_field_and_changes_nothing(
    owner: Actor, session_factory: Any, body: dict[str, Any], field: str, fragment: str
) -> None:
    r = owner.post("/api/v1/personas", json={"name": "Bad", **body} if "name" not in body else body)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert any(e["field"] == field and fragment in e["message"] for e in problem["errors"]), problem
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Persona)) == 0


def test_duplicate_name_is_409(owner: Actor) -> None:
    assert owner.post("/api/v1/personas", json={"name": "Twin"}).status_code == 201
    r = owner.post("/api/v1/personas", json={"name": "twin"})
    assert r.status_code == 409


def test_same_name_in_another_workspace_is_fine(owner: Actor, outsider: Actor) -> None:
    assert owner.post("/api/v1/personas", json={"name": "Twin"}).status_code == 201
    assert outsider.post("/api/v1/personas", json={"name": "Twin"}).status_code == 201


def test_patch_partial_and_version_check(owner: Actor) -> None:
    persona = owner.post("/api/v1/personas", json={"name": "Ver"}).json()
    r = owner.patch(f"/api/v1/personas/{persona['id']}", json={"voice": "dry", "version": 1})
    assert r.status_code == 200
    assert r.json()["voice"] == "dry" and r.json()["version"] == 2
    assert r.json()["name"] == "Ver"
    stale = owner.patch(f"/api/v1/personas/{persona['id']}", json={"voice": "wet", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert owner.get(f"/api/v1/personas/{persona['id']}").json()["voice"] == "dry"


def test_patch_invalid_timezone_changes_nothing(owner: Actor) -> None:
    persona = owner.post(
        "/api/v1/personas", json={"name": "Tz", "timezone": "Asia/Kathmandu"}
    ).json()
    r = owner.patch(f"/api/v1/personas/{persona['id']}", json={"timezone": "Nowhere/City"})
    assert r.status_code == 422
    assert owner.get(f"/api/v1/personas/{persona['id']}").json()["timezone"] == "Asia/Kathmandu"


def test_list_search_and_pagination(owner: Actor) -> None:
    for name in ("Alpha", "Beta", "Alphonse"):
        owner.post("/api/v1/personas", json={"name": name})
    r = owner.get("/api/v1/personas", params={"q": "alph", "limit": 1})
    data = r.json()
    assert data["total"] == 2 and len(data["items"]) == 1 and data["items"][0]["name"] == "Alpha"
    assert owner.get("/api/v1/personas", params={"limit": 0}).status_code == 422


def test_delete_then_404(owner: Actor) -> None:
    persona = owner.post("/api/v1/personas", json={"name": "Gone"}).json()
    assert owner.delete(f"/api/v1/personas/{persona['id']}").status_code == 204
    assert owner.get(f"/api/v1/personas/{persona['id']}").status_code == 404


def test_malformed_id_is_422(owner: Actor) -> None:
    r = owner.get("/api/v1/personas/not-a-uuid")
    assert r.status_code == 422


@pytest.mark.parametrize(
    "second", ["Émile Dupont", "émile dupont", "ÉMILE DUPONT", "E\u0301mile Dupont"]
)
def test_duplicate_non_ascii_name_is_409_on_every_backend(owner: Actor, second: str) -> None:
    # "E\u0301" is É written as E + combining accent: the same name in another Unicode form.
    assert owner.post("/api/v1/personas", json={"name": "Émile Dupont"}).status_code == 201
    r = owner.post("/api/v1/personas", json={"name": second})
    assert r.status_code == 409, r.text
    assert r.json()["detail"] == (f"A persona named {second!r} already exists in this workspace.")
    other = owner.post("/api/v1/personas", json={"name": "Zoé"}).json()
    r = owner.patch(f"/api/v1/personas/{other['id']}", json={"name": second})
    assert r.status_code == 409, r.text
    assert owner.get(f"/api/v1/personas/{other['id']}").json()["name"] == "Zoé"
    assert owner.get("/api/v1/personas").json()["total"] == 2


def test_blank_ai_model_means_the_workspace_model(owner: Actor) -> None:
    """A blank model override (the form's empty field) is no override; a long one is a 422."""
    r = owner.post("/api/v1/personas", json={"name": "Blank model", "ai_model": "  "})
    assert r.status_code == 201, r.text
    assert r.json()["ai_model"] is None
    pid = r.json()["id"]
    r = owner.patch(f"/api/v1/personas/{pid}", json={"ai_model": ""})
    assert r.status_code == 200, r.text
    assert r.json()["ai_model"] is None
    r = owner.post("/api/v1/personas", json={"name": "Long model", "ai_model": "m" * 201})
    assert r.status_code == 422, r.text
