from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from digipersona.kit.time import utcnow
from digipersona.models import ApiToken, AuditEvent, Invitation
from tests.conftest import PASSWORD, Actor, invite_actor, make_settings, register_actor


def _invite(owner: Actor, email: str, role: str = "editor") -> dict[str, Any]:
    r = owner.post("/api/v1/workspace/invitations", json={"email": email, "role": role})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_invitation_register_joins_workspace_with_role(client: Any, owner: Actor) -> None:
    inv = _invite(owner, "new@example.com", "approver")
    assert inv["accept_url"].endswith(f"/register?invitation={inv['token']}")
    r = client.post(
        "/api/v1/auth/register",
        json={"email": "new@example.com", "password": PASSWORD, "invitation_token": inv["token"]},
    )
    assert r.status_code == 201, r.text
    assert r.json()["workspace"]["id"] == str(owner.workspace_id)
    assert r.json()["workspace"]["role"] == "approver"
    # Used once.
    r = client.post(
        "/api/v1/auth/register",
        json={"email": "new@example.com", "password": PASSWORD, "invitation_token": inv["token"]},
    )
    assert r.status_code == 410


def test_invitation_for_another_email_is_refused(client: Any, owner: Actor) -> None:
    inv = _invite(owner, "right@example.com")
    r = client.post(
        "/api/v1/auth/register",
        json={"email": "wrong@example.com", "password": PASSWORD, "invitation_token": inv["token"]},
    )
    assert r.status_code == 400
    assert "right@example.com" in r.json()["detail"]


def test_expired_invitation_is_410(client: Any, owner: Actor, session_factory: Any) -> None:
    inv = _invite(owner, "late@example.com")
    with session_factory.begin() as s:
        row = s.get(Invitation, uuid.UUID(inv["id"]))
        row.expires_at = utcnow() - timedelta(minutes=1)
    r = client.post(
        "/api/v1/auth/register",
        json={"email": "late@example.com", "password": PASSWORD, "invitation_token": inv["token"]},
    )
    assert r.status_code == 410
    assert "expired" in r.json()["detail"]


def test_invite_only_registration_accepts_invitations(tmp_path: Any, database_url: str) -> None:
    from fastapi.testclient import TestClient

    from digipersona.app import create_app

    app = create_app(make_settings(tmp_path, database_url, registration="invite_only"))
    with TestClient(app) as c:
        # Seed an owner through the service layer (registration is closed to the public).
        from digipersona.auth import service as auth

        with app.state.sessionmaker.begin() as s:
            auth.register(
                s,
                app.state.settings.model_copy(update={"registration": "open"}),
                email="boss@example.com",
                password=PASSWORD,
                workspace_name="Boss",
            )
        boss = Actor(name="boss", email="boss@example.com", client=c)
        boss.login()
        inv = _invite(boss, "friend@example.com")
        r = c.post(
            "/api/v1/auth/register",
            json={
                "email": "friend@example.com",
                "password": PASSWORD,
                "invitation_token": inv["token"],
            },
        )
        assert r.status_code == 201, r.text


def test_closed_registration_refuses_invitations_too(tmp_path: Any, database_url: str) -> None:
    from fastapi.testclient import TestClient

    from digipersona.app import create_app
    from digipersona.auth import service as auth
    from digipersona.models import User

    app = create_app(make_settings(tmp_path, database_url, registration="closed"))
    with TestClient(app) as c:
        with app.state.sessionmaker.begin() as s:
            auth.register(
                s,
                app.state.settings.model_copy(update={"registration": "open"}),
                email="boss@example.com",
                password=PASSWORD,
                workspace_name="Boss",
            )
        boss = Actor(name="boss", email="boss@example.com", client=c)
        boss.login()
        inv = _invite(boss, "friend@example.com")
        r = c.post(
            "/api/v1/auth/register",
            json={
                "email": "friend@example.com",
                "password": PASSWORD,
                "invitation_token": inv["token"],
            },
        )
        assert r.status_code == 403, r.text
        assert "closed" in r.json()["detail"]
        with app.state.sessionmaker() as s:
            assert s.scalars(select(User.email)).all() == ["boss@example.com"]


def test_invitation_link_in_the_web_form_is_bound_to_its_address(
    client: Any, owner: Actor, session_factory: Any
) -> None:
    from digipersona.models import User
    from tests.web.test_shell import csrf_from

    inv = _invite(owner, "right@example.com")
    page = client.get(f"/register?invitation={inv['token']}")
    r = client.post(
        "/register",
        data={
            "email": "wrong@example.com",
            "password": PASSWORD,
            "invitation_token": inv["token"],
            "csrf_token": csrf_from(page.text),
        },
        follow_redirects=False,
    )
    assert r.status_code == 400
    assert "This invitation is for right@example.com" in r.text
    with session_factory() as s:
        assert s.scalar(select(User).where(User.email == "wrong@example.com")) is None


def test_existing_user_accepts_invitation_and_switches_workspace(
    client: Any, owner: Actor, outsider: Actor
) -> None:
    inv = _invite(owner, outsider.email, "viewer")
    r = outsider.post("/api/v1/invitations/accept", json={"token": inv["token"]})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == str(owner.workspace_id)
    me = outsider.get("/api/v1/auth/me").json()
    assert {w["name"] for w in me["workspaces"]} == {"Acme", "Rival"}
    r = outsider.get("/api/v1/workspace", headers={"X-Workspace-Id": str(owner.workspace_id)})
    assert r.json()["name"] == "Acme"
    # As a viewer there, writes are refused with 403.
    r = outsider.patch(
        "/api/v1/workspace", json={"name": "x"}, headers={"X-Workspace-Id": str(owner.workspace_id)}
    )
    assert r.status_code == 403
    assert r.status_code == 403 and "viewer" in r.json()["detail"]
    assert (
        outsider.post("/api/v1/invitations/accept", json={"token": inv["token"]}).status_code == 410
    )


def test_inviting_an_existing_member_conflicts(owner: Actor, collaborator: Actor) -> None:
    r = owner.post("/api/v1/workspace/invitations", json={"email": collaborator.email})
    assert r.status_code == 409


def test_role_changes_and_last_owner(client: Any, owner: Actor, collaborator: Actor) -> None:
    members = owner.get("/api/v1/workspace/members").json()
    mine = next(m for m in members if m["user_id"] == str(owner.user_id))
    theirs = next(m for m in members if m["user_id"] == str(collaborator.user_id))
    r = owner.patch(f"/api/v1/workspace/members/{mine['id']}", json={"role": "admin"})
    assert r.status_code == 409
    assert "last owner" in r.json()["detail"]
    assert owner.delete(f"/api/v1/workspace/members/{mine['id']}").status_code == 409
    r = owner.patch(f"/api/v1/workspace/members/{theirs['id']}", json={"role": "admin"})
    assert r.status_code == 200 and r.json()["role"] == "admin"
    # An admin cannot make itself owner, nor touch the owner.
    r = collaborator.patch(f"/api/v1/workspace/members/{theirs['id']}", json={"role": "owner"})
    assert r.status_code == 403
    assert collaborator.delete(f"/api/v1/workspace/members/{mine['id']}").status_code == 403
    r = owner.patch(f"/api/v1/workspace/members/{theirs['id']}", json={"role": "boss"})
    assert r.status_code == 422
    # Removing a member ends their access immediately, also for tokens already issued.
    assert owner.delete(f"/api/v1/workspace/members/{theirs['id']}").status_code == 204
    assert collaborator.get("/api/v1/workspace").status_code == 401


def test_api_token_is_shown_once_stored_hashed_and_scoped(
    client: Any, owner: Actor, session_factory: Any
) -> None:
    r = owner.post("/api/v1/tokens", json={"name": "agent", "scopes": ["drafts"]})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    assert token.startswith("dp_pat_")
    listed = owner.get("/api/v1/tokens").json()
    assert all(t["token"] is None for t in listed)
    with session_factory() as s:
        row = s.scalars(select(ApiToken)).one()
        assert token not in (row.token_hash, row.token_prefix)
    agent = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/personas", headers=agent).status_code == 200
    r = client.post("/api/v1/personas", headers=agent, json={"name": "Nope"})
    assert r.status_code == 403
    assert "'write' scope" in r.json()["detail"]
    r = client.post("/api/v1/tokens", headers=agent, json={"name": "x", "scopes": ["read"]})
    assert r.status_code == 403
    r = client.patch("/api/v1/workspace", headers=agent, json={"name": "x"})
    assert r.status_code == 403
    tid = listed[0]["id"]
    assert owner.delete(f"/api/v1/tokens/{tid}").status_code == 204
    assert client.get("/api/v1/personas", headers=agent).status_code == 401


def test_a_token_cannot_see_or_revoke_a_broader_token(client: Any, owner: Actor) -> None:
    def make(scopes: list[str]) -> tuple[str, dict[str, str]]:
        r = owner.post("/api/v1/tokens", json={"name": "+".join(scopes), "scopes": scopes})
        assert r.status_code == 201, r.text
        return r.json()["id"], {"Authorization": f"Bearer {r.json()['token']}"}

    admin_id, admin = make(["admin"])
    drafts_id, drafts = make(["drafts"])
    read_id, _read = make(["read"])
    listed = client.get("/api/v1/tokens", headers=drafts).json()
    assert {t["id"] for t in listed} == {drafts_id, read_id}
    r = client.delete(f"/api/v1/tokens/{admin_id}", headers=drafts)
    assert r.status_code == 403
    assert "scopes it does not hold" in r.json()["detail"]
    assert client.get("/api/v1/workspace/invitations", headers=admin).status_code == 200
    # No escalation sideways either: admin does not include drafts.
    assert client.delete(f"/api/v1/tokens/{drafts_id}", headers=admin).status_code == 403
    assert client.delete(f"/api/v1/tokens/{read_id}", headers=drafts).status_code == 204
    # The person behind the tokens still manages all of them.
    assert {t["id"] for t in owner.get("/api/v1/tokens").json()} == {admin_id, drafts_id}
    assert owner.delete(f"/api/v1/tokens/{admin_id}").status_code == 204


def test_token_scope_cannot_exceed_role(make_member: Any) -> None:
    viewer = make_member("viewer")
    r = viewer.post("/api/v1/tokens", json={"name": "t", "scopes": ["write"]})
    assert r.status_code == 400
    assert "cannot grant the scope(s) write" in r.json()["detail"]
    r = viewer.post("/api/v1/tokens", json={"name": "t", "scopes": ["read", "write"]})
    assert r.status_code == 400
    r = viewer.post("/api/v1/tokens", json={"name": "t", "scopes": ["read"]})
    assert r.status_code == 201


@pytest.mark.parametrize("scopes", [[], ["root"], ["read"] * 11])
def test_bad_token_scopes(owner: Actor, scopes: list[str]) -> None:
    r = owner.post("/api/v1/tokens", json={"name": "t", "scopes": scopes})
    assert r.status_code == 422


def test_expired_api_token_is_401(client: Any, owner: Actor, session_factory: Any) -> None:
    r = owner.post("/api/v1/tokens", json={"name": "t", "scopes": ["read"], "expires_in_days": 1})
    token = r.json()["token"]
    with session_factory.begin() as s:
        s.scalars(select(ApiToken)).one().expires_at = utcnow() - timedelta(seconds=1)
    r = client.get("/api/v1/workspace", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert "expired" in r.json()["detail"]


def test_changes_are_audited(owner: Actor, session_factory: Any) -> None:
    owner.patch("/api/v1/workspace", json={"name": "New name"})
    with session_factory() as s:
        actions = set(s.scalars(select(AuditEvent.action)))
    assert {"workspace.created", "workspace.renamed"} <= actions


def test_collaborator_sees_members(client: Any, owner: Actor) -> None:
    viewer = invite_actor(client, owner, "v", "viewer")
    emails = {m["email"] for m in viewer.get("/api/v1/workspace/members").json()}
    assert {owner.email, viewer.email} <= emails
    other = register_actor(client, "other")
    assert other.email not in emails
