"""A status change made elsewhere arrives on an open page without a reload (SSE)."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import register
from tests.browser.test_offline_approvals import api, in_review


def test_status_change_arrives_without_reload(page: Any, live_server: str) -> None:
    register(page, live_server, email="live@example.com")
    client = api(live_server, "live@example.com")
    persona = client.post("/api/v1/personas", json={"name": "Live"}).json()
    post_id = in_review(client, persona["id"], "Watch me change state.")
    page.goto(f"{live_server}/content/{post_id}")
    badge = page.locator(f'[data-live-post="{post_id}"]')
    assert badge.inner_text() == "in review"
    page.evaluate("window.__marker = 'same page'")  # proves no navigation happened
    assert client.post(f"/api/v1/content/{post_id}/approve").status_code == 200
    page.wait_for_function(
        f"() => document.querySelector('[data-live-post=\"{post_id}\"]').textContent "
        "=== 'approved'",
        timeout=15000,
    )
    assert page.evaluate("window.__marker") == "same page"
    assert "approved" in page.inner_text("#live-region").lower()


def test_notification_badge_updates_without_reload(page: Any, live_server: str) -> None:
    register(page, live_server, email="bell@example.com")
    client = api(live_server, "bell@example.com")
    persona = client.post("/api/v1/personas", json={"name": "Bell"}).json()
    page.goto(f"{live_server}/dashboard")
    assert page.inner_text("#unread-badge") == ""
    page.evaluate("window.__marker = 'same page'")
    in_review(client, persona["id"], "Ring the bell.")  # an approval request for the owner
    page.wait_for_selector("#unread-badge .badge", timeout=15000)
    assert page.inner_text("#unread-badge .badge").startswith("1")
    assert page.evaluate("window.__marker") == "same page"
