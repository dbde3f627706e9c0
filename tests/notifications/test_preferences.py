"""Per-member notification preferences: defaults by role, the API, routing of in-app rows."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from digipersona.notifications import outbox
from digipersona.notifications.service import notify
from tests.conftest import Actor

KINDS = {
    "approval.requested",
    "review.decided",
    "publication.failed",
    "publication.missed",
    "connection.expiring",
    "connection.paused",
    "interaction.lead",
    "ai.budget",
}
CHANNELS = {"in_app", "email", "webhook", "push"}


def submit_post(actor: Actor, body: str = "Please approve me", persona: str = "Pushy") -> str:
    found = [p for p in actor.get("/api/v1/personas").json()["items"] if p["name"] == persona]
    persona_doc = (
        found[0] if found else actor.post("/api/v1/personas", json={"name": persona}).json()
    )
    post = actor.post(
        "/api/v1/content",
        json={"persona_id": persona_doc["id"], "body": body, "platforms": ["x"]},
    ).json()
    r = actor.post(f"/api/v1/content/{post['id']}/submit")
    assert r.status_code == 200, r.text
    return str(post["id"])


def test_defaults_follow_the_role(owner: Actor, make_member: Any) -> None:
    doc = owner.get("/api/v1/notifications/preferences").json()
    assert {k["kind"] for k in doc["kinds"]} == KINDS
    assert {c["channel"] for c in doc["channels"]} == CHANNELS
    prefs = doc["preferences"]
    assert prefs["approval.requested"] == {
        "in_app": True,
        "email": True,
        "webhook": True,
        "push": True,
    }
    assert prefs["connection.expiring"]["push"] is False
    assert prefs["interaction.lead"]["email"] is False

    editor = make_member("editor")
    doc = editor.get("/api/v1/notifications/preferences").json()
    # Approval requests go only to members who can approve.
    assert not next(k for k in doc["kinds"] if k["kind"] == "approval.requested")["available"]
    assert not any(doc["preferences"]["approval.requested"].values())
    assert doc["preferences"]["publication.failed"] == {
        "in_app": True,
        "email": True,
        "webhook": False,
        "push": True,
    }
    assert not any(doc["preferences"]["connection.paused"].values())

    approver = make_member("approver")
    prefs = approver.get("/api/v1/notifications/preferences").json()["preferences"]
    assert prefs["approval.requested"]["in_app"] and prefs["approval.requested"]["email"]
    assert not prefs["approval.requested"]["webhook"]
    assert not any(prefs["publication.failed"].values())

    viewer = make_member("viewer")
    prefs = viewer.get("/api/v1/notifications/preferences").json()["preferences"]
    assert not any(v for row in prefs.values() for v in row.values())


def test_put_changes_only_the_named_cells_and_persists(owner: Actor, outsider: Actor) -> None:
    r = owner.request(
        "PUT",
        "/api/v1/notifications/preferences",
        json={"preferences": {"approval.requested": {"email": False}, "interaction.lead": {}}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["preferences"]["approval.requested"] == {
        "in_app": True,
        "email": False,
        "webhook": True,
        "push": True,
    }
    r = owner.request(
        "PUT",
        "/api/v1/notifications/preferences",
        json={"preferences": {"interaction.lead": {"email": True}}},
    )
    prefs = owner.get("/api/v1/notifications/preferences").json()["preferences"]
    assert prefs["approval.requested"]["email"] is False  # kept from the first PUT
    assert prefs["interaction.lead"]["email"] is True
    # Another workspace's member is unaffected.
    other = outsider.get("/api/v1/notifications/preferences").json()["preferences"]
    assert other["approval.requested"]["email"] is True


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"preferences": {"post.liked": {"email": True}}}, "post.liked"),
        ({"preferences": {"publication.failed": {"sms": True}}}, "sms"),
        ({"preferences": {"publication.failed": {"email": "yes"}}}, "publication.failed.email"),
        ({"preferences": {"publication.failed": True}}, "publication.failed"),
        ({"preferences": ["email"]}, "preferences"),
    ],
)
def test_bad_preferences_are_422_naming_the_problem(
    owner: Actor, body: dict[str, Any], named: str
) -> None:
    before = owner.get("/api/v1/notifications/preferences").json()
    r = owner.request("PUT", "/api/v1/notifications/preferences", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert named in r.text
    assert owner.get("/api/v1/notifications/preferences").json() == before


def test_a_member_who_cannot_approve_cannot_opt_into_approval_requests(
    owner: Actor, make_member: Any
) -> None:
    editor = make_member("editor")
    r = editor.request(
        "PUT",
        "/api/v1/notifications/preferences",
        json={"preferences": {"approval.requested": {"in_app": True}}},
    )
    assert r.status_code == 422
    assert "cannot approve" in r.json()["detail"]
    ok = editor.request(
        "PUT",
        "/api/v1/notifications/preferences",
        json={"preferences": {"approval.requested": {"in_app": False}}},
    )
    assert ok.status_code == 200


def test_in_app_rows_go_to_the_members_who_want_them(owner: Actor, make_member: Any) -> None:
    approver, editor = make_member("approver"), make_member("editor")
    r = approver.request(
        "PUT",
        "/api/v1/notifications/preferences",
        json={"preferences": {"approval.requested": {"in_app": False}}},
    )
    assert r.status_code == 200
    submit_post(owner)
    mine = owner.get("/api/v1/notifications").json()
    assert [n["kind"] for n in mine] == ["approval.requested"]
    assert mine[0]["title"] == "Pushy: a post waits for your approval"
    assert mine[0]["data"]["post_id"]
    assert approver.get("/api/v1/notifications").json() == []
    assert editor.get("/api/v1/notifications").json() == []


def test_list_and_mark_read(owner: Actor, make_member: Any, outsider: Actor) -> None:
    approver = make_member("approver")
    submit_post(owner, "first")
    submit_post(owner, "second")
    unread = owner.get("/api/v1/notifications", params={"unread": "true"}).json()
    assert len(unread) == 2
    first = unread[0]["id"]
    # Someone else's notification (same workspace or another) is not yours to mark.
    assert approver.post(f"/api/v1/notifications/{first}/read").status_code == 404
    assert outsider.post(f"/api/v1/notifications/{first}/read").status_code == 404
    r = owner.post(f"/api/v1/notifications/{first}/read")
    assert r.status_code == 200 and r.json()["read_at"]
    assert len(owner.get("/api/v1/notifications", params={"unread": "true"}).json()) == 1
    assert len(approver.get("/api/v1/notifications", params={"unread": "true"}).json()) == 2
    assert owner.post("/api/v1/notifications/read").json() == {"marked": 1}
    assert owner.get("/api/v1/notifications", params={"unread": "true"}).json() == []
    assert len(owner.get("/api/v1/notifications").json()) == 2


def test_other_callers_kinds_are_routed(
    owner: Actor, make_member: Any, session_factory: Any
) -> None:
    editor = make_member("editor")
    assert owner.workspace_id is not None
    with session_factory.begin() as session:
        notify(
            session,
            workspace_id=owner.workspace_id,
            kind="interaction.lead",
            title="A lead: 'Do you consult?'",
            data={"interaction_id": "x"},
        )
        notify(
            session,
            workspace_id=owner.workspace_id,
            kind="connection.expired",
            title="bluesky account must be reconnected",
        )
    assert {n["kind"] for n in owner.get("/api/v1/notifications").json()} == {
        "interaction.lead",
        "connection.expired",
    }
    # Editors answer leads but do not manage connections.
    assert [n["kind"] for n in editor.get("/api/v1/notifications").json()] == ["interaction.lead"]


def test_a_failing_channel_never_breaks_the_caller(
    owner: Actor, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.fakes.server import free_port

    dead = f"http://127.0.0.1:{free_port()}/hook"
    r = owner.request("PUT", "/api/v1/notifications/webhook", json={"url": dead})
    assert r.status_code == 200
    secret = r.json()["secret"]
    with caplog.at_level(logging.WARNING, logger="digipersona.notifications"):
        post_id = submit_post(owner)
        assert outbox.drain()
    assert owner.get(f"/api/v1/content/{post_id}").json()["status"] == "in_review"
    assert [n["kind"] for n in owner.get("/api/v1/notifications").json()] == ["approval.requested"]
    assert "delivery by webhook failed (attempt 1, retried)" in caplog.text
    assert dead not in caplog.text and secret not in caplog.text
