"""Review links: made by editors, opened without an account, deciding only on their posts."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from digipersona.config import Settings
from digipersona.kit.time import utcnow
from digipersona.models import AuditEvent, Notification, Post, ReviewLink
from tests.conftest import Actor, make_settings


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # A low bound on unknown links per address, so the throttle test needs few requests.
    return make_settings(tmp_path, database_url, login_max_failures_per_ip=3)


@pytest.fixture
def persona(owner: Actor) -> dict[str, Any]:
    r = owner.post("/api/v1/personas", json={"name": "Dana", "timezone": "Europe/Berlin"})
    assert r.status_code == 201, r.text
    return dict(r.json())


def in_review(actor: Actor, persona: dict[str, Any], body: str = "Ship small, ship often") -> str:
    r = actor.post(
        "/api/v1/content",
        json={"persona_id": persona["id"], "body": body, "platforms": ["x", "linkedin"]},
    )
    assert r.status_code == 201, r.text
    post_id = str(r.json()["id"])
    r = actor.post(f"/api/v1/content/{post_id}/submit")
    assert r.status_code == 200, r.text
    return post_id


def make_link(actor: Actor, post_ids: list[str], name: str = "Client") -> dict[str, Any]:
    r = actor.post("/api/v1/review-links", json={"post_ids": post_ids, "name": name})
    assert r.status_code == 201, r.text
    return dict(r.json())


def page_form_token(client: Any, token: str) -> str:
    r = client.get(f"/review/{token}")
    assert r.status_code == 200, r.text
    found = re.search(r'name="form_token" value="([0-9a-f]+)"', r.text)
    assert found, r.text
    return found.group(1)


def decide(
    client: Any, token: str, post_id: str, decision: str, form_token: str, **extra: str
) -> Any:
    return client.post(
        f"/review/{token}/decide",
        data={"post_id": post_id, "decision": decision, "form_token": form_token, **extra},
    )


def post_row(session_factory: Any, post_id: str) -> Post:
    with session_factory() as s:
        post = s.get(Post, uuid.UUID(post_id))
        assert post is not None
        s.expunge(post)
        return post


def test_approve_through_a_link_is_audited_and_tells_the_author(
    client: Any,
    owner: Actor,
    collaborator: Actor,
    persona: dict[str, Any],
    session_factory: Any,
) -> None:
    post_id = in_review(collaborator, persona)
    other_id = in_review(collaborator, persona, "Second post for the batch")
    link = make_link(owner, [post_id, other_id])
    token = link["token"]
    assert token.startswith("dp_rl_") and link["url"].endswith(f"/review/{token}")

    listed = owner.get("/api/v1/review-links").json()
    assert [x["id"] for x in listed] == [link["id"]]
    assert "token" not in listed[0] and token not in str(listed)

    page = client.get(f"/review/{token}")
    assert page.status_code == 200
    assert "Ship small, ship often" in page.text and "Second post for the batch" in page.text
    assert page.headers["cache-control"] == "no-store"
    form_token = page_form_token(client, token)

    r = decide(client, token, post_id, "approve", form_token)
    assert r.status_code == 200, r.text
    assert "Approved" in r.text
    assert post_row(session_factory, post_id).status == "approved"
    assert post_row(session_factory, other_id).status == "in_review"  # one decision, one post

    with session_factory() as s:
        event = s.scalars(
            select(AuditEvent).where(
                AuditEvent.object_id == uuid.UUID(post_id),
                AuditEvent.action == "post.status_changed",
                AuditEvent.actor_user_id.is_(None),
            )
        ).one()
        assert event.data["via"] == "review link (Client)"
        assert event.data["to"] == "approved"
        notes = s.scalars(select(Notification).where(Notification.kind == "review.decided")).all()
        assert [n.user_id for n in notes] == [collaborator.user_id]

    # Deciding again on the same post: it moved on, a clear 409 on the page.
    again = decide(client, token, post_id, "reject", form_token, comment="No")
    assert again.status_code == 409
    assert "no longer waiting for review" in again.text
    assert post_row(session_factory, post_id).status == "approved"


def test_request_changes_and_reject_need_a_comment(
    client: Any, owner: Actor, persona: dict[str, Any], session_factory: Any
) -> None:
    first, second = in_review(owner, persona), in_review(owner, persona, "Another one")
    token = make_link(owner, [first, second], name="")["token"]
    form_token = page_form_token(client, token)

    assert decide(client, token, first, "request_changes", form_token).status_code == 422
    r = decide(client, token, first, "request_changes", form_token, comment="Shorter please")
    assert r.status_code == 200, r.text
    row = post_row(session_factory, first)
    assert (row.status, row.rejection_reason) == ("draft", "Shorter please")

    r = decide(client, token, second, "reject", form_token, comment="Off topic")
    assert r.status_code == 200, r.text
    assert post_row(session_factory, second).status == "rejected"
    assert decide(client, token, second, "maybe", form_token).status_code == 400


def test_a_link_decides_only_on_its_own_posts_with_its_own_form(
    client: Any, owner: Actor, persona: dict[str, Any], session_factory: Any
) -> None:
    covered, not_covered = in_review(owner, persona), in_review(owner, persona, "Not in the link")
    token = make_link(owner, [covered])["token"]
    other_token = make_link(owner, [not_covered])["token"]
    form_token = page_form_token(client, token)

    r = decide(client, token, not_covered, "approve", form_token)
    assert r.status_code == 404 and "does not cover that post" in r.text
    # The other link's form token does not work on this link.
    r = decide(client, token, covered, "approve", page_form_token(client, other_token))
    assert r.status_code == 403
    assert decide(client, token, covered, "approve", "").status_code == 403
    assert post_row(session_factory, covered).status == "in_review"
    assert post_row(session_factory, not_covered).status == "in_review"


def test_an_edited_post_answers_a_clear_conflict(
    client: Any, owner: Actor, persona: dict[str, Any], session_factory: Any
) -> None:
    post_id = in_review(owner, persona)
    token = make_link(owner, [post_id])["token"]
    page = client.get(f"/review/{token}")
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    form_token = page_form_token(client, token)
    r = owner.patch(f"/api/v1/content/{post_id}", json={"body": "Edited meanwhile"})
    assert r.status_code == 200, r.text
    r = decide(client, token, post_id, "approve", form_token, version=version.group(1))
    assert r.status_code == 409 and "edited since the page was loaded" in r.text
    assert post_row(session_factory, post_id).status == "in_review"


def test_expired_revoked_and_unknown_links_answer_a_page(
    client: Any, owner: Actor, outsider: Actor, persona: dict[str, Any], session_factory: Any
) -> None:
    expired = make_link(owner, [in_review(owner, persona)])
    revoked = make_link(owner, [in_review(owner, persona, "Revoked one")])
    with session_factory.begin() as s:
        row = s.get(ReviewLink, uuid.UUID(expired["id"]))
        assert row is not None
        row.expires_at = utcnow() - timedelta(minutes=1)

    # Another workspace cannot see or revoke the link.
    assert outsider.delete(f"/api/v1/review-links/{revoked['id']}").status_code == 404
    assert outsider.get("/api/v1/review-links").json() == []
    assert owner.delete(f"/api/v1/review-links/{revoked['id']}").status_code == 204
    assert owner.delete(f"/api/v1/review-links/{revoked['id']}").status_code == 204
    assert owner.get("/api/v1/review-links").json() == []

    r = client.get(f"/review/{expired['token']}")
    assert r.status_code == 410 and "has expired" in r.text
    r = client.get(f"/review/{revoked['token']}")
    assert r.status_code == 410 and "withdrawn" in r.text
    r = decide(client, revoked["token"], revoked["post_ids"][0], "approve", "x" * 64)
    assert r.status_code == 410
    r = client.get("/review/dp_rl_not-a-real-link-at-all")
    assert r.status_code == 404 and "does not exist" in r.text


def test_unknown_links_are_throttled_per_address(client: Any) -> None:
    # The bound is 3 (settings above); each unknown token counts like a failed login.
    statuses = [client.get(f"/review/dp_rl_guess{n:04d}xxxx").status_code for n in range(4)]
    assert statuses == [404, 404, 404, 429]


def test_who_may_create_a_link(
    client: Any, owner: Actor, make_member: Any, persona: dict[str, Any]
) -> None:
    post_id = in_review(owner, persona)
    approver = make_member("approver")
    r = approver.post("/api/v1/review-links", json={"post_ids": [post_id]})
    assert r.status_code == 403
    # A drafts token, which may never approve, cannot make a link that approves.
    r = owner.post("/api/v1/tokens", json={"name": "agent", "scopes": ["drafts"]})
    assert r.status_code == 201, r.text
    agent = {"Authorization": f"Bearer {r.json()['token']}"}
    r = client.post("/api/v1/review-links", json={"post_ids": [post_id]}, headers=agent)
    assert r.status_code == 403 and "write" in r.json()["detail"]


def test_bad_requests_for_a_link(owner: Actor, persona: dict[str, Any]) -> None:
    draft = owner.post(
        "/api/v1/content", json={"persona_id": persona["id"], "body": "Hi", "platforms": ["x"]}
    ).json()["id"]
    r = owner.post("/api/v1/review-links", json={"post_ids": [draft]})
    assert r.status_code == 409 and "Submit it for review first" in r.json()["detail"]
    r = owner.post("/api/v1/review-links", json={"post_ids": [str(uuid.uuid4())]})
    assert r.status_code == 404
    assert owner.post("/api/v1/review-links", json={"post_ids": []}).status_code == 422
    r = owner.post(
        "/api/v1/review-links",
        json={"post_ids": [draft], "expires_in_days": 0},
    )
    assert r.status_code == 422
