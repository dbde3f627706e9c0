"""The Settings page's "Notifications" section: the matrix of checkboxes and the webhook form."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import Actor
from tests.web.test_shell import csrf_from, web_login


def test_matrix_is_drawn_and_saved_from_the_form(client: Any, owner: Actor) -> None:
    assert web_login(client, owner.email).status_code == 303
    html = client.get("/settings").text
    assert '<h2 id="notifications-title">Notifications</h2>' in html
    boxes = re.findall(r'<input type="checkbox" id="pref-[^"]+" name="pref" value="([^"]+)"', html)
    assert len(boxes) == 8 * 4  # eight kinds (review.decided included), four channels
    for value in ("approval.requested:email", "interaction.lead:push"):
        assert f'for="pref-{value.replace(".", "-").replace(":", "-")}"' in html
    assert re.search(r'value="approval.requested:email"\s+checked', html)
    # Submit with only two cells checked: every other cell turns off.
    r = client.post(
        "/settings/notifications",
        data={
            "csrf_token": csrf_from(html),
            "pref": ["publication.failed:email", "interaction.lead:in_app"],
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/settings#notifications"
    prefs = owner.get("/api/v1/notifications/preferences").json()["preferences"]
    on = {f"{k}:{c}" for k, row in prefs.items() for c, v in row.items() if v}
    assert on == {"publication.failed:email", "interaction.lead:in_app"}
    html = client.get("/settings").text
    assert "Notification preferences saved." in html
    assert not re.search(r'value="approval.requested:email"\s+checked', html)


def test_form_without_csrf_is_refused(client: Any, owner: Actor) -> None:
    web_login(client, owner.email)
    r = client.post("/settings/notifications", data={"pref": []}, follow_redirects=False)
    assert r.status_code == 403
    assert owner.get("/api/v1/notifications/preferences").json()["preferences"][
        "approval.requested"
    ]["email"]


def test_non_approver_sees_approval_requests_disabled(
    client: Any, owner: Actor, make_member: Any
) -> None:
    editor = make_member("editor")
    web_login(client, editor.email)
    html = client.get("/settings").text
    assert re.search(r'value="approval.requested:in_app"\s+disabled', html)
    assert "Workspace webhook" not in html  # admins only
    r = client.post(
        "/settings/notifications/webhook",
        data={"csrf_token": csrf_from(html), "url": "https://hooks.example/x"},
        follow_redirects=False,
    )
    assert r.status_code == 403


def test_admin_sets_webhook_sees_secret_once(client: Any, owner: Actor) -> None:
    web_login(client, owner.email)
    html = client.get("/settings").text
    assert "Workspace webhook" in html
    r = client.post(
        "/settings/notifications/webhook",
        data={"csrf_token": csrf_from(html), "url": "ftp://nope"},
        follow_redirects=False,
    )
    assert "must start with https://" in client.get("/settings").text
    client.post(
        "/settings/notifications/webhook",
        data={"csrf_token": csrf_from(html), "url": "https://hooks.example/n"},
        follow_redirects=False,
    )
    html = client.get("/settings").text
    secret = re.search(r'id="nw-secret" class="secret-value" readonly value="([^"]+)"', html)
    assert 'data-copy="nw-secret"' in html
    assert secret and len(secret.group(1)) >= 40
    again = client.get("/settings").text
    assert secret.group(1) not in again
    assert 'value="https://hooks.example/n"' in again
    r = client.post(
        "/settings/notifications/webhook",
        data={"csrf_token": csrf_from(html), "remove": "1"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert owner.get("/api/v1/notifications/webhook").json() == {
        "configured": False,
        "url": None,
        "created_at": None,
        "updated_at": None,
        "secret": None,
    }


def test_in_app_page_lists_and_marks_read(client: Any, owner: Actor, make_member: Any) -> None:
    from tests.notifications.test_preferences import submit_post

    approver = make_member("approver")
    submit_post(owner, "Look at me")
    web_login(client, owner.email)
    assert '1<span class="sr-only"> unread' in client.get("/notifications/unread-count").text
    html = client.get("/notifications").text
    assert "Pushy: a post waits for your approval" in html and "(1 unread)" in html
    assert 'href="/approvals"' in html
    note_id = re.search(r'data-notification-id="([^"]+)"', html)
    assert note_id
    # Another member's notification cannot be marked from this session.
    theirs = approver.get("/api/v1/notifications").json()[0]["id"]
    client.post(
        f"/notifications/{theirs}/read",
        data={"csrf_token": csrf_from(html)},
        follow_redirects=False,
    )
    assert approver.get("/api/v1/notifications", params={"unread": "true"}).json()
    r = client.post(
        f"/notifications/{note_id.group(1)}/read",
        data={"csrf_token": csrf_from(html)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert client.get("/notifications/unread-count").text == ""
    assert owner.get("/api/v1/notifications", params={"unread": "true"}).json() == []
    submit_post(owner, "Again")
    r = client.post(
        "/notifications/read", data={"csrf_token": csrf_from(html)}, follow_redirects=False
    )
    assert r.status_code == 303
    assert owner.get("/api/v1/notifications", params={"unread": "true"}).json() == []
    assert client.post("/notifications/read", data={}).status_code == 403  # no CSRF token


def test_the_webhook_form_refuses_a_refused_address(
    client: Any, owner: Actor, public_only: Any
) -> None:
    web_login(client, owner.email)
    html = client.get("/settings").text
    client.post(
        "/settings/notifications/webhook",
        data={"csrf_token": csrf_from(html), "url": "http://10.0.0.1/n"},
        follow_redirects=False,
    )
    assert "Refused to connect to 10.0.0.1: it is a private address" in client.get("/settings").text
    assert owner.get("/api/v1/notifications/webhook").json()["configured"] is False
