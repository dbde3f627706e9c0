"""Web sessions end server-side: logout, password change and removal from a workspace.

The session cookie is only signed, so these tests replay a saved copy of it, as someone who
copied it from a shared computer or a proxy log would.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from digipersona.kit.security import COMMON_PASSWORD_MESSAGE
from digipersona.models import RefreshToken, User
from tests.conftest import PASSWORD, Actor, invite_actor
from tests.web.test_shell import csrf_from, web_login

COOKIE = "digipersona_session"
NEW_PASSWORD = "a fresh passphrase 9"


def saved_cookie(client: Any) -> str:
    value = client.cookies.get(COOKIE)
    assert value, "not logged in"
    return str(value)


def replay(client: Any, cookie: str, path: str = "/dashboard") -> Any:
    """GET ``path`` with only the saved cookie (the client's own jar is emptied first)."""
    client.cookies.clear()
    return client.get(path, headers={"cookie": f"{COOKIE}={cookie}"}, follow_redirects=False)


def test_a_saved_session_cookie_is_dead_after_logout(client: Any, owner: Actor) -> None:
    assert web_login(client, owner.email).status_code == 303
    elsewhere = saved_cookie(client)  # as if logged in on a second computer
    assert web_login(client, owner.email).status_code == 303
    page = client.get("/dashboard")
    cookie = saved_cookie(client)
    assert replay(client, cookie).status_code == 200
    client.cookies.set(COOKIE, cookie)
    r = client.post("/logout", data={"csrf_token": csrf_from(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    r = replay(client, cookie)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert replay(client, cookie, "/api/v1/workspace").status_code == 401
    # Logout ends the user's other browsers too: there is one session version per user.
    assert replay(client, elsewhere).status_code == 303
    # Logging in again works and starts a live session.
    assert web_login(client, owner.email).status_code == 303
    assert client.get("/dashboard", follow_redirects=False).status_code == 200


def test_password_change_ends_other_sessions_and_keeps_this_one(
    client: Any, owner: Actor, session_factory: Any
) -> None:
    web_login(client, owner.email)
    other_browser = saved_cookie(client)
    web_login(client, owner.email)
    page = client.get("/settings")
    assert 'name="current_password"' in page.text
    r = client.post(
        "/settings/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "csrf_token": csrf_from(page.text),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get("/settings", follow_redirects=False)
    assert page.status_code == 200 and "Password changed" in page.text
    this_browser = saved_cookie(client)
    assert replay(client, other_browser).status_code == 303
    assert replay(client, this_browser).status_code == 200
    # The API logins from before (refresh tokens) end as well.
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert r.status_code == 401
    assert web_login(client, owner.email, PASSWORD).status_code == 401
    assert web_login(client, owner.email, NEW_PASSWORD).status_code == 303


def test_password_change_form_errors_change_nothing(
    client: Any, owner: Actor, session_factory: Any
) -> None:
    web_login(client, owner.email)
    for current, new, message in [
        ("not my password 1", NEW_PASSWORD, "Your current password is wrong"),
        (PASSWORD, "short1", "at least 10 characters"),
        (PASSWORD, PASSWORD, "differs from the current one"),
    ]:
        page = client.get("/settings")
        r = client.post(
            "/settings/password",
            data={
                "current_password": current,
                "new_password": new,
                "csrf_token": csrf_from(page.text),
            },
        )
        assert r.status_code == 200 and message in r.text, message
    with session_factory() as s:
        assert s.scalar(select(User.session_version).where(User.email == owner.email)) == 0
    assert web_login(client, owner.email, PASSWORD).status_code == 303


def test_password_change_api(client: Any, owner: Actor) -> None:
    r = owner.post(
        "/api/v1/auth/password",
        json={"current_password": "not my password 1", "new_password": NEW_PASSWORD},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "current_password"
    r = owner.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "Liverpool1"},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0] == {
        "field": "new_password",
        "message": COMMON_PASSWORD_MESSAGE,
    }
    token = owner.post("/api/v1/tokens", json={"name": "agent", "scopes": ["read"]}).json()
    r = client.post(
        "/api/v1/auth/password",
        headers={"Authorization": f"Bearer {token['token']}"},
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert r.status_code == 403
    r = owner.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert r.status_code == 204, r.text
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert r.status_code == 401
    r = client.post("/api/v1/auth/login", json={"email": owner.email, "password": NEW_PASSWORD})
    assert r.status_code == 200


def test_removal_from_the_only_workspace_logs_the_member_out(
    client: Any, owner: Actor, session_factory: Any
) -> None:
    member = invite_actor(client, owner, "member", "editor")
    web_login(client, member.email)
    cookie = saved_cookie(client)
    assert replay(client, cookie).status_code == 200
    members = owner.get("/api/v1/workspace/members").json()
    membership = next(m for m in members if m["email"] == member.email)
    assert owner.delete(f"/api/v1/workspace/members/{membership['id']}").status_code == 204
    r = replay(client, cookie)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    with session_factory() as s:
        user = s.scalars(select(User).where(User.email == member.email)).one()
        assert user.session_version == 1
        live = s.scalars(
            select(RefreshToken).where(
                RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None)
            )
        ).all()
        assert live == []


def test_removal_from_one_of_two_workspaces_moves_the_session(
    client: Any, owner: Actor, outsider: Actor
) -> None:
    r = owner.post("/api/v1/workspace/invitations", json={"email": outsider.email})
    assert outsider.post("/api/v1/invitations/accept", json={"token": r.json()["token"]}).is_success
    web_login(client, outsider.email)
    page = client.get("/dashboard")
    client.post(
        "/workspace/switch",
        data={"workspace_id": str(owner.workspace_id), "csrf_token": csrf_from(page.text)},
    )
    cookie = saved_cookie(client)
    assert "Acme" in replay(client, cookie).text
    members = owner.get("/api/v1/workspace/members").json()
    membership = next(m for m in members if m["email"] == outsider.email)
    assert owner.delete(f"/api/v1/workspace/members/{membership['id']}").status_code == 204
    r = replay(client, cookie, "/api/v1/workspace")
    assert r.status_code == 403
    assert "no longer have access" in r.json()["detail"]
    # The next request of that browser is in the workspace they still belong to.
    r = client.get("/api/v1/workspace")
    assert r.status_code == 200 and r.json()["name"] == "Rival"
    # A saved copy of the old cookie never opens the old workspace.
    assert replay(client, cookie, "/api/v1/workspace").status_code == 403
