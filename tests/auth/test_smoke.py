def test_register_login_me(client, owner):
    r = owner.get("/api/v1/auth/me")
    assert r.status_code == 200, r.text
    assert r.json()["workspace"]["role"] == "owner"
