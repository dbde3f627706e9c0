from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from tests.conftest import PASSWORD, Actor, register_actor


def _register(client: Any, **body: Any) -> Any:
    payload = {"email": "ann@example.com", "password": PASSWORD, "workspace_name": "Ann Co"}
    payload.update(body)
    return client.post("/api/v1/auth/register", json=payload)


def test_register_creates_user_and_owned_workspace(client: Any) -> None:
    r = _register(client)
    assert r.status_code == 201, r.text
    data = r.json()
    assert data["user"]["email"] == "ann@example.com"
    assert data["workspace"] == {"id": data["workspace"]["id"], "name": "Ann Co", "role": "owner"}
    assert "password" not in r.text and "hash" not in r.text


def test_register_normalises_email_and_refuses_duplicates(client: Any) -> None:
    assert _register(client, email="Ann@Example.com").status_code == 201
    r = _register(client, email="ann@example.COM")
    assert r.status_code == 409
    assert "already exists" in r.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"email": "not-an-email"}, 422, "email"),
        ({"password": "short1"}, 422, "at least 10 characters"),
        ({"password": "onlyletterspassword"}, 422, "digit or symbol"),
        ({"password": "ann-example-2024!", "email": "ann@example.com"}, 422, "email address"),
        # Common passwords are refused whatever their case (the list is lowercase).
        ({"password": "PassWord123"}, 422, "10,000 most common"),
        ({"password": "1q2w3e4r5t"}, 422, "10,000 most common"),
        ({"surprise": 1}, 422, "unknown field"),
        ({"workspace_name": "x" * 201}, 422, "workspace_name"),
        ({"email": "a" * 400 + "@example.com"}, 422, "email"),
    ],
)
def test_register_bad_input(
    client: Any, session_factory: Any, body: dict[str, Any], status: int, fragment: str
) -> None:
    r = _register(client, **body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert fragment in r.text
    from sqlalchemy import func, select

    from digipersona.models import User, Workspace

    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 0
        assert s.scalar(select(func.count()).select_from(Workspace)) == 0


def test_malformed_json_is_400_with_message(client: Any) -> None:
    r = client.post(
        "/api/v1/auth/register", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert "Malformed JSON" in r.json()["detail"]


def test_oversize_body_is_413(client: Any) -> None:
    r = client.post(
        "/api/v1/auth/register",
        content=b"x" * 3_000_000,
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413


def test_login_refresh_rotation_and_reuse_revokes_family(client: Any) -> None:
    actor = register_actor(client, "rot")
    first_refresh = actor.refresh_token
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": first_refresh})
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first_refresh
    assert (
        client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {second['access_token']}"}
        ).status_code
        == 200
    )
    # Reusing the rotated token is theft: the whole family dies, including the new token.
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": first_refresh})
    assert r.status_code == 401
    assert "already used" in r.json()["detail"]
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 401
    assert "revoked" in r.json()["detail"]


def test_logout_revokes_refresh_token(client: Any) -> None:
    actor = register_actor(client, "out")
    assert (
        client.post("/api/v1/auth/logout", json={"refresh_token": actor.refresh_token}).status_code
        == 204
    )
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": actor.refresh_token})
    assert r.status_code == 401


def test_unknown_refresh_token_is_401(client: Any) -> None:
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": "dp_rt_nope"})
    assert r.status_code == 401


def test_wrong_password_is_401_and_says_nothing_about_the_account(client: Any) -> None:
    actor = register_actor(client, "pw")
    r1 = client.post(
        "/api/v1/auth/login", json={"email": actor.email, "password": "wrong password 1"}
    )
    r2 = client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": "wrong password 1"}
    )
    assert r1.status_code == r2.status_code == 401
    assert r1.json()["detail"] == r2.json()["detail"]


def _forge(settings: Any, **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": "digipersona",
        "aud": "digipersona:api",
        "sub": str(uuid.uuid4()),
        "wid": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 600,
        "typ": "access",
    }
    payload.update(claims)
    return jwt.encode(payload, claims.pop("_key", settings.secret_key_value()), algorithm="HS256")


@pytest.mark.parametrize(
    ("variant", "fragment"),
    [
        ("expired", "expired"),
        ("forged", "invalid"),
        ("audience", "not meant for this API"),
        ("garbage", "invalid"),
        ("not_access", "not an access token"),
    ],
)
def test_bad_jwts_are_401(
    client: Any, settings: Any, owner: Actor, variant: str, fragment: str
) -> None:
    real = {"sub": str(owner.user_id), "wid": str(owner.workspace_id)}
    if variant == "expired":
        token = _forge(settings, **real, exp=int(time.time()) - 5, iat=int(time.time()) - 100)
    elif variant == "forged":
        token = jwt.encode(
            {
                **real,
                "iss": "digipersona",
                "aud": "digipersona:api",
                "typ": "access",
                "iat": int(time.time()),
                "exp": int(time.time()) + 60,
            },
            "not-the-key" * 4,
            algorithm="HS256",
        )
    elif variant == "audience":
        token = _forge(settings, **real, aud="someone-else")
    elif variant == "not_access":
        token = _forge(settings, **real, typ="refresh")
    else:
        token = "abc.def.ghi"
    r = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401, r.text
    assert fragment in r.json()["detail"]
    assert r.headers["www-authenticate"] == "Bearer"


def test_non_bearer_scheme_is_401(client: Any) -> None:
    r = client.get("/api/v1/auth/me", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401
    assert "Bearer" in r.json()["detail"]


def test_login_throttled_per_account(client: Any, settings: Any) -> None:
    actor = register_actor(client, "throttle")
    for _ in range(settings.login_max_failures_per_account):
        r = client.post(
            "/api/v1/auth/login", json={"email": actor.email, "password": "wrong password 1"}
        )
        assert r.status_code == 401
    r = client.post("/api/v1/auth/login", json={"email": actor.email, "password": PASSWORD})
    assert r.status_code == 429
    assert "Too many failed logins for this account" in r.json()["detail"]
    assert int(r.headers["retry-after"]) > 0


def test_login_throttled_per_ip(client: Any, settings: Any) -> None:
    for i in range(settings.login_max_failures_per_ip):
        client.post(
            "/api/v1/auth/login",
            json={"email": f"u{i}@example.com", "password": "wrong password 1"},
        )
    r = client.post(
        "/api/v1/auth/login", json={"email": "fresh@example.com", "password": "wrong password 1"}
    )
    assert r.status_code == 429
    assert "from your address" in r.json()["detail"]


def test_login_picks_requested_workspace_and_refuses_foreign(
    client: Any, owner: Actor, outsider: Actor
) -> None:
    r = client.post(
        "/api/v1/auth/login",
        json={
            "email": owner.email,
            "password": PASSWORD,
            "workspace_id": str(outsider.workspace_id),
        },
    )
    assert r.status_code == 403


def test_access_token_expiry_is_short(client: Any, owner: Actor, settings: Any) -> None:
    claims = jwt.decode(owner.token, options={"verify_signature": False})
    lifetime = claims["exp"] - claims["iat"]
    assert lifetime == settings.access_token_minutes * 60
    assert datetime.fromtimestamp(claims["exp"], UTC) < datetime.now(UTC) + timedelta(minutes=16)


@pytest.mark.parametrize("mode", ["closed", "invite_only"])
def test_registration_modes(tmp_path: Any, database_url: str, mode: str) -> None:
    from fastapi.testclient import TestClient

    from digipersona.app import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(tmp_path, database_url, registration=mode))
    with TestClient(app) as c:
        r = _register(c)
        assert r.status_code == 403
        assert ("closed" if mode == "closed" else "invitation") in r.json()["detail"]
