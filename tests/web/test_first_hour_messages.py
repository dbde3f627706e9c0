"""Issue 17, the noise a new user met: a joining member's greeting, a problem named twice."""

from __future__ import annotations

import html
from typing import Any

from tests.conftest import PASSWORD, Actor
from tests.web.test_shell import csrf_from, web_login


def _register_page(client: Any, data: dict[str, str], query: str = "") -> str:
    form = client.get(f"/register{query}", headers={"accept": "text/html"}).text
    answer = client.post(
        "/register",
        data={**data, "password": PASSWORD, "csrf_token": csrf_from(form)},
        headers={"accept": "text/html"},
    )
    assert answer.status_code == 200, answer.text
    return html.unescape(answer.text)


def test_a_new_workspace_and_a_joining_member_are_greeted_differently(
    client: Any, owner: Actor
) -> None:
    invite = owner.post(
        "/api/v1/workspace/invitations", json={"email": "joiner@example.com", "role": "editor"}
    ).json()
    client.cookies.clear()
    page = _register_page(
        client,
        {"email": "joiner@example.com", "invitation_token": invite["token"]},
        f"?invitation={invite['token']}",
    )
    assert "Start by creating a persona" not in page
    assert "You joined as editor: draft posts for its personas under Content." in page

    client.cookies.clear()
    page = _register_page(client, {"email": "founder@example.com", "workspace_name": "Mine"})
    assert "Your workspace “Mine” is ready. Start by creating a persona." in page


def test_a_banned_phrase_is_named_once_when_submit_fails(client: Any, owner: Actor) -> None:
    persona = owner.post(
        "/api/v1/personas",
        json={"name": "Dana", "timezone": "Europe/Berlin", "banned_phrases": ["synergy"]},
    ).json()
    post = owner.post(
        "/api/v1/content",
        json={"persona_id": persona["id"], "body": "Pure synergy today.", "platforms": ["x"]},
    ).json()
    web_login(client, owner.email)
    form = client.get("/dashboard").text
    answer = client.post(
        f"/content/{post['id']}/decide",
        data={"action": "submit", "back": "/dashboard", "csrf_token": csrf_from(form)},
    )
    flash = html.unescape(answer.text).split('class="flash flash-error" role="status">')[1]
    flash = flash.split("</div>")[0]
    assert flash.startswith("Fix these before review:")
    assert flash.count("Remove or reword “synergy”") == 1, flash
