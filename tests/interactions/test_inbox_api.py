"""The inbox API: filters, pagination, bulk status, sources; workspace-scoped."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from digipersona.kit.time import utcnow
from digipersona.models import Interaction
from tests.conftest import register_actor
from tests.interactions.conftest import Env


def _seed(env: Env) -> dict[str, str]:
    """Poll three mentions from the X fake and one comment from LinkedIn."""
    x_conn = env.connect_x()
    bob = env.x.add_user("bob", "Bob Buyer")
    bob.description = "Head of Platform at Acme"
    carol = env.x.add_user("carol", "Carol Curious")
    ids = {
        "lead": env.x.add_mention(bob, "@persona_one do you consult? What are your rates?"),
        "praise": env.x.add_mention(carol, "@persona_one great thread on kubernetes"),
        "question": env.x.add_mention(carol, "@persona_one does anyone know a good book?"),
    }
    report = env.poll()
    assert report.stored == 3
    ids["x_conn"] = str(x_conn)
    return ids


def _by_external(env: Env, items: list[dict[str, Any]]) -> set[str]:
    return {i["external_id"] for i in items}


def test_list_filters_and_pagination(env: Env) -> None:
    ids = _seed(env)
    owner = env.owner
    r = owner.get("/api/v1/interactions")
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["total"] == 3
    assert [i["external_id"] for i in data["items"]] == [
        ids["question"],
        ids["praise"],
        ids["lead"],
    ]
    lead = next(i for i in data["items"] if i["external_id"] == ids["lead"])
    assert lead["is_lead"] and lead["lead_score"] >= 50 and lead["lead_reasons"]
    assert lead["author_handle"] == "bob" and lead["platform"] == "x" and lead["status"] == "new"

    def q(**params: Any) -> set[str]:
        r = owner.get("/api/v1/interactions", params=params)
        assert r.status_code == 200, r.text
        return _by_external(env, r.json()["items"])

    assert q(min_score=50) == {ids["lead"]}
    assert q(is_lead="true") == {ids["lead"]}
    assert q(q="KUBERNETES") == {ids["praise"]}
    assert q(q="carol curious") == {ids["praise"], ids["question"]}
    assert q(q="100%") == set()  # LIKE wildcards are literal
    assert q(platform="linkedin") == set()
    assert q(kind="mention") == {ids["lead"], ids["praise"], ids["question"]}
    assert q(kind="comment") == set()
    assert q(persona_id=env.persona_id) == {ids["lead"], ids["praise"], ids["question"]}
    assert q(persona_id=str(uuid.uuid4())) == set()
    soon = (utcnow() + timedelta(hours=1)).isoformat()
    earlier = (utcnow() - timedelta(hours=1)).isoformat()
    assert len(q(since=earlier, until=soon)) == 3
    assert q(since=soon) == set()
    page = owner.get("/api/v1/interactions", params={"limit": 2, "offset": 2}).json()
    assert page["total"] == 3 and [i["external_id"] for i in page["items"]] == [ids["lead"]]

    one = owner.get(f"/api/v1/interactions/{lead['id']}")
    assert one.status_code == 200 and one.json()["external_id"] == ids["lead"]


def test_bad_filters_are_422_with_a_message(env: Env) -> None:
    owner = env.owner
    for params in (
        {"kind": "dm"},
        {"status": "done"},
        {"min_score": "101"},
        {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        {"since": "2026-01-01T00:00:00"},
        {"limit": "0"},
    ):
        r = owner.get("/api/v1/interactions", params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["detail"]


def test_bulk_status_all_or_nothing(env: Env) -> None:
    ids = _seed(env)
    owner = env.owner
    items = owner.get("/api/v1/interactions").json()["items"]
    by_ext = {i["external_id"]: i["id"] for i in items}
    r = owner.post(
        "/api/v1/interactions/bulk",
        json={"ids": [by_ext[ids["praise"]], by_ext[ids["question"]]], "status": "ignored"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"updated": 2, "status": "ignored"}
    r = owner.post(
        "/api/v1/interactions/bulk", json={"ids": [by_ext[ids["lead"]]], "status": "read"}
    )
    assert r.json()["updated"] == 1
    statuses = {
        i["external_id"]: i["status"] for i in owner.get("/api/v1/interactions").json()["items"]
    }
    assert statuses == {ids["lead"]: "read", ids["praise"]: "ignored", ids["question"]: "ignored"}
    assert _by_external(
        env, owner.get("/api/v1/interactions", params={"status": "ignored"}).json()["items"]
    ) == {ids["praise"], ids["question"]}
    # An unknown id: 404 and nothing changed.
    r = owner.post(
        "/api/v1/interactions/bulk",
        json={"ids": [by_ext[ids["lead"]], str(uuid.uuid4())], "status": "ignored"},
    )
    assert r.status_code == 404
    assert owner.get(f"/api/v1/interactions/{by_ext[ids['lead']]}").json()["status"] == "read"
    for body in (
        {"ids": [], "status": "read"},
        {"ids": [by_ext[ids["lead"]]], "status": "replied"},
    ):
        r = owner.post("/api/v1/interactions/bulk", json=body)
        assert r.status_code == 422, r.text


def test_other_workspaces_see_nothing(env: Env) -> None:
    _seed(env)
    rival = register_actor(env.client, "rival", "Rival")
    some_id = env.owner.get("/api/v1/interactions").json()["items"][0]["id"]
    assert rival.get("/api/v1/interactions").json()["total"] == 0
    assert rival.get(f"/api/v1/interactions/{some_id}").status_code == 404
    r = rival.post("/api/v1/interactions/bulk", json={"ids": [some_id], "status": "ignored"})
    assert r.status_code == 404
    assert (
        rival.post(f"/api/v1/interactions/{some_id}/reply-drafts", json={"text": "x"}).status_code
        == 404
    )
    assert env.owner.get(f"/api/v1/interactions/{some_id}").json()["status"] == "new"
    assert rival.get("/api/v1/interactions/sources").json() == []


def test_sources_say_what_each_platform_gives(env: Env) -> None:
    env.connect_x()
    blind = env.connect_linkedin(scopes=("openid", "profile", "email", "w_member_social"))
    from tests.interactions.conftest import LI_READ  # noqa: F401

    env.published(blind, "linkedin", "urn:li:share:1")
    env.poll()
    sources = {s["platform"]: s for s in env.owner.get("/api/v1/interactions/sources").json()}
    assert sources["x"]["supported"] is True and sources["x"]["last_polled_at"]
    li = sources["linkedin"]
    assert li["supported"] is False
    assert "r_member_social" in li["unsupported_reason"]
    assert "r_member_social" in li["note"]


def test_interaction_rows_unique_per_connection(env: Env) -> None:
    """The same platform id on two connections is two interactions; on one it is one."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    a = env.connect_x()
    now = utcnow()

    def row(conn: Any) -> Interaction:
        return Interaction(
            workspace_id=env.owner.workspace_id,
            persona_id=uuid.UUID(env.persona_id),
            connection_id=conn,
            platform="x",
            external_id="42",
            kind="mention",
            received_at=now,
        )

    with env.factory.begin() as s:
        s.add(row(a))
    with pytest.raises(IntegrityError), env.factory.begin() as s:
        s.add(row(a))
