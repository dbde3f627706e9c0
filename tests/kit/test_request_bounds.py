"""Every list bounds limit/offset, and no request string may carry a NUL (422, on both backends)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from digipersona.exceptions import ValidationFailed
from digipersona.kit.pagination import MAX_OFFSET
from digipersona.kit.repository import Repository
from digipersona.models import AuditEvent, Persona, Post
from tests.conftest import Actor

LISTS = [
    "/api/v1/content",
    "/api/v1/personas",
    "/api/v1/interactions",
    "/api/v1/personas/{persona}/autopilot/runs",
]


@pytest.fixture
def persona(owner: Actor) -> dict[str, Any]:
    r = owner.post("/api/v1/personas", json={"name": "Dana"})
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"offset": "9223372036854775808"}, "offset"),  # one past a signed 64-bit integer
        ({"offset": str(MAX_OFFSET + 1)}, "offset"),
        ({"offset": "-1"}, "offset"),
        ({"limit": "9223372036854775808"}, "limit"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_a_page_out_of_bounds_is_422(
    owner: Actor, persona: dict[str, Any], path: str, params: dict[str, str], field: str
) -> None:
    r = owner.get(path.format(persona=persona["id"]), params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == [field]


@pytest.mark.parametrize("path", LISTS)
def test_the_largest_offset_is_an_empty_page(
    owner: Actor, persona: dict[str, Any], path: str
) -> None:
    r = owner.get(path.format(persona=persona["id"]), params={"offset": MAX_OFFSET, "limit": 200})
    assert r.status_code == 200, r.text
    assert r.json()["items"] == [] and r.json()["offset"] == MAX_OFFSET


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (201, 0), (50, -1), (50, 2**63)])
def test_repository_paginate_refuses_out_of_bounds(
    session_factory: Any, limit: int, offset: int
) -> None:
    class Personas(Repository[Persona]):
        model = Persona

    with session_factory() as session, pytest.raises(ValidationFailed) as caught:
        Personas(session).paginate(select(Persona), limit=limit, offset=offset)
    assert caught.value.status_code == 422


NUL = "a\x00b"


def _count(session_factory: Any, model: Any) -> int:
    with session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": NUL}, "name"),
        ({"name": "Dana2", "bio": NUL}, "bio"),
        ({"name": "Dana2", "topics": ["ok", NUL]}, "topics"),
        (
            {
                "name": "Dana2",
                "reply_templates": {"templates": [{"id": "t", "class": "c", "text": NUL}]},
            },
            "reply_templates",
        ),
    ],
)
def test_nul_in_a_persona_is_422_and_stores_nothing(
    owner: Actor, persona: dict[str, Any], session_factory: Any, body: dict[str, Any], field: str
) -> None:
    r = owner.post("/api/v1/personas", json=body)
    assert r.status_code == 422, r.text
    assert {"field": field, "message": "cannot contain NUL (\\u0000) characters"} in r.json()[
        "errors"
    ]
    assert _count(session_factory, Persona) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": NUL}, "body"),
        ({"body": "fine", "brief": NUL}, "brief"),
        ({"body": "fine", "tags": [NUL]}, "tags"),
        ({"body": "fine", "linkedin_comment": NUL}, "linkedin_comment"),
    ],
)
def test_nul_in_a_post_is_422_and_stores_nothing(
    owner: Actor, persona: dict[str, Any], session_factory: Any, body: dict[str, Any], field: str
) -> None:
    r = owner.post(
        "/api/v1/content", json={"persona_id": persona["id"], "platforms": ["x"], **body}
    )
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert _count(session_factory, Post) == 0
    created = owner.post(
        "/api/v1/content", json={"persona_id": persona["id"], "platforms": ["x"], "body": "ok"}
    ).json()
    events = _count(session_factory, AuditEvent)
    r = owner.patch(f"/api/v1/content/{created['id']}", json=body)
    assert r.status_code == 422, r.text
    assert owner.get(f"/api/v1/content/{created['id']}").json()["body"] == "ok"
    assert _count(session_factory, AuditEvent) == events


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/content", {"q": NUL}),
        ("/api/v1/personas", {"q": NUL}),
        ("/api/v1/interactions", {"q": NUL}),
        ("/api/v1/interactions", {"platform": NUL}),
        ("/api/v1/connections", {"platform": NUL}),
        ("/api/v1/analytics", {"platform": NUL}),
    ],
)
def test_nul_in_a_query_string_is_422(owner: Actor, path: str, params: dict[str, str]) -> None:
    r = owner.get(path, params=params)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["message"] == "cannot contain NUL (\\u0000) characters"


YEAR_ZERO_IN_UTC = "0001-01-01T00:00:00+01:00"


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "field"),
    [
        ("POST", "/api/v1/content/{post}/schedule", {"json": {"at": YEAR_ZERO_IN_UTC}}, "at"),
        ("PATCH", "/api/v1/content/{post}/schedule", {"json": {"at": YEAR_ZERO_IN_UTC}}, "at"),
        ("GET", "/api/v1/interactions", {"params": {"since": YEAR_ZERO_IN_UTC}}, "since"),
        ("GET", "/api/v1/interactions", {"params": {"until": YEAR_ZERO_IN_UTC}}, "until"),
        (
            "GET",
            "/api/v1/calendar",
            {"params": {"start": YEAR_ZERO_IN_UTC, "end": "2030-01-01T00:00:00Z"}},
            "start",
        ),
        ("GET", "/api/v1/analytics", {"params": {"start": YEAR_ZERO_IN_UTC}}, "start"),
        ("GET", "/api/v1/content/{post}/prediction", {"params": {"at": YEAR_ZERO_IN_UTC}}, "at"),
    ],
)
def test_a_time_outside_years_1_to_9999_in_utc_is_422(
    owner: Actor, persona: dict[str, Any], method: str, path: str, kwargs: Any, field: str
) -> None:
    post = owner.post(
        "/api/v1/content", json={"persona_id": persona["id"], "platforms": ["x"], "body": "ok"}
    ).json()
    r = owner.request(method, path.format(post=post["id"]), **kwargs)
    assert r.status_code == 422, r.text
    assert {
        "field": field,
        "message": "is out of range: in UTC it must fall within the years 1 to 9999",
    } in r.json()["errors"]


def test_nul_in_a_form_field_is_422(owner: Actor, persona: dict[str, Any]) -> None:
    post = owner.post(
        "/api/v1/content", json={"persona_id": persona["id"], "platforms": ["x"], "body": "ok"}
    ).json()
    r = owner.post(
        f"/api/v1/content/{post['id']}/media",
        files={"file": ("a.png", b"not read", "image/png")},
        data={"alt_text": NUL},
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [
        {"field": "alt_text", "message": "cannot contain NUL (\\u0000) characters"}
    ]
