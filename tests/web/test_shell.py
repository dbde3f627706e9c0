"""The server-rendered shell: login/register/logout with CSRF, navigation, empty states."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import PASSWORD, Actor

NAV_PAGES = [
    "/dashboard",
    "/personas",
    "/content",
    "/approvals",
    "/calendar",
    "/interactions",
    "/analytics",
    "/connections",
    "/settings",
    "/jobs",
]


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field in the form"
    return match.group(1)


def web_login(client: Any, email: str, password: str = PASSWORD, next_: str = "") -> Any:
    page = client.get("/login", headers={"accept": "text/html"})
    return client.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "csrf_token": csrf_from(page.text),
            "next": next_,
        },
        headers={"accept": "text/html"},
        follow_redirects=False,
    )


def test_root_redirects_to_login_then_dashboard(client: Any, owner: Actor) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert web_login(client, owner.email).status_code == 303
    r = client.get("/", follow_redirects=False)
    assert r.headers["location"] == "/dashboard"


def test_login_form_has_email_password_and_submit(client: Any) -> None:
    html = client.get("/login").text
    assert 'type="email"' in html and 'type="password"' in html and 'type="submit"' in html
    assert '<label for="f-email">' in html


def test_register_via_form_then_every_page_renders(client: Any) -> None:
    page = client.get("/register")
    r = client.post(
        "/register",
        data={
            "email": "web@example.com",
            "password": PASSWORD,
            "workspace_name": "Web Co",
            "csrf_token": csrf_from(page.text),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    for path in NAV_PAGES:
        r = client.get(path)
        assert r.status_code == 200, path
        assert "Web Co" in r.text
        assert 'aria-current="page"' in r.text


def test_register_form_keeps_input_and_shows_field_errors(client: Any) -> None:
    page = client.get("/register")
    r = client.post(
        "/register",
        data={
            "email": "keep@example.com",
            "password": "short",
            "workspace_name": "Kept Name",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert r.status_code == 422
    assert 'value="keep@example.com"' in r.text
    assert 'value="Kept Name"' in r.text
    assert "at least 10 characters" in r.text
    assert 'aria-invalid="true"' in r.text


def test_wrong_password_message_and_typed_email_kept(client: Any, owner: Actor) -> None:
    r = web_login(client, owner.email, "wrong password 1")
    assert r.status_code == 401
    assert "Wrong email or password" in r.text
    assert f'value="{owner.email}"' in r.text


def test_csrf_failure_is_a_clear_message(client: Any, owner: Actor) -> None:
    client.get("/login")
    r = client.post(
        "/login",
        data={"email": owner.email, "password": PASSWORD, "csrf_token": "forged"},
        headers={"accept": "text/html"},
    )
    assert r.status_code == 403
    assert "CSRF check failed" in r.text


def test_expired_session_goes_to_login_and_back(client: Any, owner: Actor) -> None:
    r = client.get("/personas?x=1", headers={"accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/personas%3Fx%3D1"
    r = web_login(client, owner.email, next_="/personas?x=1")
    assert r.headers["location"] == "/personas?x=1"


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example", "/\\evil"])
def test_next_cannot_leave_the_site(client: Any, owner: Actor, target: str) -> None:
    r = web_login(client, owner.email, next_=target)
    assert r.headers["location"] == "/dashboard"


def test_logout_needs_csrf_and_ends_session(client: Any, owner: Actor) -> None:
    web_login(client, owner.email)
    page = client.get("/dashboard")
    assert client.post("/logout", data={"csrf_token": "nope"}).status_code == 403
    r = client.post("/logout", data={"csrf_token": csrf_from(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_session_cookie_api_calls_need_csrf_header(client: Any, owner: Actor) -> None:
    web_login(client, owner.email)
    token = csrf_from(client.get("/dashboard").text)
    assert client.get("/api/v1/workspace").status_code == 200
    assert client.patch("/api/v1/workspace", json={"name": "x"}).status_code == 403
    r = client.patch(
        "/api/v1/workspace", json={"name": "Via cookie"}, headers={"X-CSRF-Token": token}
    )
    assert r.status_code == 200


def test_static_assets_are_vendored(client: Any) -> None:
    assert client.get("/static/htmx.min.js").status_code == 200
    css = client.get("/static/app.css")
    assert css.status_code == 200 and "@media (max-width: 720px)" in css.text


def test_html_404_is_a_page(client: Any, owner: Actor) -> None:
    web_login(client, owner.email)
    r = client.get(
        "/personas/00000000-0000-0000-0000-000000000000", headers={"accept": "text/html"}
    )
    assert r.status_code == 404
    assert "<html" in r.text and "No such persona" in r.text


def test_dashboard_shows_review_queue_and_schedule(client: Any, owner: Actor) -> None:
    web_login(client, owner.email)
    assert "Start with a persona" in client.get("/dashboard").text
    persona = owner.post("/api/v1/personas", json={"name": "Dash"}).json()
    post = owner.post(
        "/api/v1/content",
        json={"persona_id": persona["id"], "body": "Waiting for review", "platforms": ["x"]},
    ).json()
    owner.post(f"/api/v1/content/{post['id']}/submit")
    page = client.get("/dashboard")
    assert "Waiting for review" in page.text
    assert "Nothing is scheduled." in page.text
    assert "Interactions" in client.get("/dashboard?tab=interactions").text
