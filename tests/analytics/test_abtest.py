"""A/B tests: the Bayesian comparison, pairing and scheduling into comparable slots, results."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from digipersona.analytics.abtest import Figures, compare
from digipersona.kit.time import utcnow
from digipersona.models import AbTest, Connection, MetricSnapshot, Post, Publication
from tests.analytics.test_api import persona
from tests.conftest import Actor


def test_beta_binomial_names_a_winner_only_with_evidence() -> None:
    clear = compare(Figures(100, 10_000, 1, 1), Figures(160, 10_000, 1, 1))
    assert clear["verdict"] == "B" and clear["p_b_better"] > 0.99
    assert clear["method"].startswith("beta-binomial")
    assert clear["a"]["ci95"][0] < 0.01 < clear["a"]["ci95"][1]
    assert 0.3 < clear["lift"]["median"] < 0.9
    small = compare(Figures(3, 100, 1, 1), Figures(5, 100, 1, 1))
    assert small["verdict"] == "inconclusive" and 0.5 < small["p_b_better"] < 0.95
    assert compare(Figures(160, 10_000, 1, 1), Figures(100, 10_000, 1, 1))["verdict"] == "A"
    # Same input, same answer (seeded draws).
    assert compare(Figures(3, 100, 1, 1), Figures(5, 100, 1, 1)) == small


def test_counts_without_impressions_and_waiting() -> None:
    counts = compare(Figures(10, None, 1, 1), Figures(40, None, 1, 1))
    assert counts["method"].startswith("gamma-poisson") and counts["verdict"] == "B"
    assert "reach is ignored" in counts["method"]
    assert compare(Figures(None, None, 1, 0), Figures(4, 10, 1, 1))["verdict"] == "waiting"


def draft(owner: Actor, pid: str, body: str, platforms: list[str] | None = None) -> str:
    r = owner.post(
        "/api/v1/content",
        json={"persona_id": pid, "body": body, "platforms": platforms or ["x"]},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_pairing_validation(owner: Actor, outsider: Actor, session_factory: Any) -> None:
    pid, other = persona(owner), persona(owner)
    a, b = draft(owner, pid, "Variant A"), draft(owner, pid, "Variant B")
    r = owner.post("/api/v1/ab-tests", json={"post_a_id": a, "post_b_id": b, "name": "Hook"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["result"]["verdict"] == "waiting" and body["variants"]["a"]["post_id"] == a
    assert owner.get(f"/api/v1/ab-tests/{body['id']}").json()["name"] == "Hook"
    assert [t["id"] for t in owner.get("/api/v1/ab-tests").json()["items"]] == [body["id"]]

    def create(**kw: Any) -> Any:
        return owner.post("/api/v1/ab-tests", json=kw)

    assert create(post_a_id=a, post_b_id=a).status_code == 422
    assert (
        "same persona" in create(post_a_id=a, post_b_id=draft(owner, other, "x")).json()["detail"]
    )
    li = draft(owner, pid, "LinkedIn only", ["linkedin"])
    assert "same platforms" in create(post_a_id=a, post_b_id=li).json()["detail"]
    assert create(post_a_id=a, post_b_id=str(uuid.uuid4())).status_code == 404
    # Scheduling needs both approved: refused, and no half-written test is left behind.
    r = create(post_a_id=a, post_b_id=b, schedule=True)
    assert r.status_code == 409 and "approved" in r.json()["detail"]
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(AbTest)) == 1
    assert outsider.get(f"/api/v1/ab-tests/{body['id']}").status_code == 404
    assert (
        outsider.post("/api/v1/ab-tests", json={"post_a_id": a, "post_b_id": b}).status_code == 404
    )
    assert outsider.get("/api/v1/ab-tests").json()["items"] == []


def test_the_list_is_paged_newest_first_and_filtered_by_persona(owner: Actor) -> None:
    """A workspace with a long history of A/B tests gets them a page at a time."""
    pid, other = persona(owner), persona(owner)
    made = []
    for i, who in enumerate((pid, pid, other, pid)):
        a, b = draft(owner, who, f"A{i}"), draft(owner, who, f"B{i}")
        r = owner.post("/api/v1/ab-tests", json={"post_a_id": a, "post_b_id": b})
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])
    seen, cursor = [], None
    while True:
        params = {"limit": 3} if cursor is None else {"limit": 3, "cursor": cursor}
        page = owner.get("/api/v1/ab-tests", params=params).json()
        assert len(page["items"]) <= 3
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made[::-1]
    mine = owner.get("/api/v1/ab-tests", params={"persona_id": pid}).json()
    assert [t["id"] for t in mine["items"]] == [made[3], made[1], made[0]]
    assert mine["next_cursor"] is None
    for bad in ({"cursor": "not-a-cursor"}, {"limit": 0}, {"limit": 201}):
        assert owner.get("/api/v1/ab-tests", params=bad).status_code == 422, bad


def test_scheduled_into_comparable_slots_then_result(owner: Actor, session_factory: Any) -> None:
    pid = persona(owner, "Europe/Berlin")  # default slots: Tue/Thu 06:30 local
    with session_factory.begin() as s:
        conn = Connection(
            workspace_id=owner.workspace_id,
            persona_id=uuid.UUID(pid),
            platform="x",
            account_id="acct-x",
            access_token_enc="x",
        )
        s.add(conn)
        posts = []
        for text in ("Variant A: a statement.", "Variant B: a question?"):
            post = Post(
                workspace_id=owner.workspace_id,
                persona_id=uuid.UUID(pid),
                body=text,
                status="approved",
                platforms=["x"],
            )
            s.add(post)
            posts.append(post)
        s.flush()
        a, b = (str(p.id) for p in posts)
    r = owner.post("/api/v1/ab-tests", json={"post_a_id": a, "post_b_id": b, "schedule": True})
    assert r.status_code == 201, r.text
    test_id = r.json()["id"]
    zone = ZoneInfo("Europe/Berlin")
    with session_factory() as s:
        pub_a = s.scalars(select(Publication).where(Publication.post_id == uuid.UUID(a))).one()
        pub_b = s.scalars(select(Publication).where(Publication.post_id == uuid.UUID(b))).one()
    local_a, local_b = pub_a.scheduled_at.astimezone(zone), pub_b.scheduled_at.astimezone(zone)
    assert local_a.weekday() in (1, 3) and (local_a.hour, local_a.minute) == (6, 30)
    assert local_b.date() - local_a.date() == timedelta(days=7)
    assert (local_b.weekday(), local_b.hour, local_b.minute) == (local_a.weekday(), 6, 30)

    # Both published and measured: B clearly better per impression.
    with session_factory.begin() as s:
        for pub, likes in ((pub_a, 80), (pub_b, 150)):
            row = s.get(Publication, pub.id)
            row.state, row.external_id, row.published_at = "published", uuid.uuid4().hex, utcnow()
            s.add(
                MetricSnapshot(
                    workspace_id=owner.workspace_id,
                    publication_id=pub.id,
                    taken_at=utcnow(),
                    likes=likes,
                    reposts=0,
                    replies=0,
                    quotes=0,
                    impressions=8000,
                )
            )
    result = owner.get(f"/api/v1/ab-tests/{test_id}").json()
    assert result["variants"]["b"]["engagements"] == 150
    assert result["result"]["verdict"] == "B" and result["result"]["p_b_better"] >= 0.95
    assert "B is better" in result["result"]["message"]

    from tests.web.test_shell import web_login

    web_login(owner.client, owner.email)
    html = owner.client.get("/analytics", params={"persona_id": pid}).text
    assert "A/B tests" in html and "B is better with probability" in html and "Lift of B" in html
