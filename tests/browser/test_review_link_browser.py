"""A review link on a 360 px phone, opened without an account: approve one post, then an
expired link's page."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, update

from digipersona.kit.time import utcnow
from digipersona.models import ReviewLink
from tests.browser.test_offline_approvals import api, in_review
from tests.conftest import PASSWORD


def test_review_link_on_a_phone(phone: Any, live_server: str, tmp_path: Path) -> None:
    email = "reviewlink@example.com"
    r = httpx.post(
        f"{live_server}/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "workspace_name": "Consultancy"},
    )
    assert r.status_code == 201, r.text
    client = api(live_server, email)
    persona = client.post("/api/v1/personas", json={"name": "Client CEO"}).json()
    first = in_review(client, persona["id"], "First post for the client to approve.")
    second = in_review(client, persona["id"], "Second post, left for later.")
    r = client.post(
        "/api/v1/review-links", json={"post_ids": [first, second], "name": "Acme board"}
    )
    assert r.status_code == 201, r.text
    link = r.json()

    page = phone.new_page()  # a phone with no session: the reviewer has no account
    page.goto(link["url"])
    assert page.locator("h1").inner_text() == "Review for Acme board"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    card = page.locator(f'article[data-post-id="{first}"]')
    assert "First post for the client to approve." in card.inner_text()
    card.locator("button:has-text('Approve')").click()
    page.wait_for_selector("text=Approved. Thank you.")
    assert client.get(f"/api/v1/content/{first}").json()["status"] == "approved"
    assert client.get(f"/api/v1/content/{second}").json()["status"] == "in_review"
    assert "No decision needed" in page.locator(f'article[data-post-id="{first}"]').inner_text()

    # The link expires: its page says so (410), in words.
    engine = create_engine(f"sqlite:///{tmp_path / 'browser.db'}")
    with engine.begin() as conn:
        conn.execute(update(ReviewLink).values(expires_at=utcnow() - timedelta(minutes=1)))
    engine.dispose()
    response = page.goto(link["url"])
    assert response is not None and response.status == 410
    assert "This review link no longer works" in page.locator("h1").inner_text()
    assert "has expired" in page.inner_text("body")
    page.close()
