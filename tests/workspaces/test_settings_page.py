from __future__ import annotations

from typing import Any

from tests.conftest import Actor
from tests.web.test_shell import csrf_from, web_login


def test_settings_page_members_invite_and_token(
    client: Any, owner: Actor, collaborator: Actor
) -> None:
    web_login(client, owner.email)
    page = client.get("/settings")
    assert page.status_code == 200
    assert collaborator.email in page.text
    token = csrf_from(page.text)
    r = client.post(
        "/settings/invitations",
        data={"csrf_token": token, "email": "new@example.com", "role": "viewer"},
        follow_redirects=True,
    )
    assert "/register?invitation=dp_inv_" in r.text
    r = client.post(
        "/settings/tokens",
        data={"csrf_token": token, "name": "agent", "scopes": ["drafts"]},
        follow_redirects=True,
    )
    import re

    full = re.search(r'value="(dp_pat_[A-Za-z0-9_-]{20,})"', r.text)
    assert full and 'data-copy="new-token"' in r.text
    assert full.group(1) not in client.get("/settings").text  # shown once
    r = client.post(
        "/settings/invitations",
        data={"csrf_token": token, "email": "nope", "role": "viewer"},
        follow_redirects=True,
    )
    assert "not a valid email" in r.text
    r = client.post(
        "/settings/workspace",
        data={"csrf_token": token, "name": "Renamed Co"},
        follow_redirects=True,
    )
    assert "Renamed Co" in r.text


def test_viewer_sees_settings_without_admin_forms(client: Any, make_member: Any) -> None:
    viewer = make_member("viewer")
    web_login(client, viewer.email)
    page = client.get("/settings")
    assert page.status_code == 200
    assert "Invite someone" not in page.text
    r = client.post("/settings/workspace", data={"csrf_token": csrf_from(page.text), "name": "x"})
    assert r.status_code == 403
