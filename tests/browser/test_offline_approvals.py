"""Phone-first approvals that keep working offline (service worker + IndexedDB queue)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.browser.conftest import register

PASSWORD = "correct horse 42"


def api(base: str, email: str) -> httpx.Client:
    token = httpx.post(
        f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD}
    ).json()["access_token"]
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def in_review(client: httpx.Client, persona_id: str, text: str) -> str:
    post = client.post(
        "/api/v1/content", json={"persona_id": persona_id, "body": text, "platforms": ["x"]}
    ).json()
    assert client.post(f"/api/v1/content/{post['id']}/submit").status_code == 200
    return str(post["id"])


def test_approve_on_phone_then_offline_and_sync(phone: Any, live_server: str) -> None:
    page = phone.new_page()
    register(page, live_server, email="offline@example.com")
    client = api(live_server, "offline@example.com")
    persona = client.post("/api/v1/personas", json={"name": "Phone"}).json()
    first = in_review(client, persona["id"], "First post to approve on a phone.")
    second = in_review(client, persona["id"], "Second post, approved while offline.")
    third = in_review(client, persona["id"], "Third post, changed while I was offline.")

    page.goto(f"{live_server}/approvals")
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now controlled by the service worker, and cached
    assert page.evaluate("!!navigator.serviceWorker.controller")

    card = page.locator(f'article[data-post-id="{first}"]')
    card.locator("button:has-text('Approve')").click()
    page.wait_for_load_state()
    assert client.get(f"/api/v1/content/{first}").json()["status"] == "approved"

    phone.set_offline(True)
    page.reload()  # served from the service worker's cache
    assert page.locator(f'article[data-post-id="{second}"]').is_visible()
    page.locator(f'article[data-post-id="{second}"] button:has-text("Approve")').click()
    page.wait_for_selector(f'article[data-post-id="{second}"] .sync-note[data-kind="queued"]')
    page.locator(f'article[data-post-id="{third}"] button:has-text("Approve")').click()
    page.wait_for_selector(f'article[data-post-id="{third}"] .sync-note[data-kind="queued"]')
    assert client.get(f"/api/v1/content/{second}").json()["status"] == "in_review"

    # Meanwhile someone edits the third post: its version moves on.
    assert (
        client.patch(
            f"/api/v1/content/{third}", json={"body": "Third post, edited by a colleague."}
        ).status_code
        == 200
    )

    phone.set_offline(False)
    page.wait_for_selector(
        f'article[data-post-id="{second}"] .sync-note[data-kind="ok"]', timeout=15000
    )
    page.wait_for_selector(
        f'article[data-post-id="{third}"] .sync-note[data-kind="conflict"]', timeout=15000
    )
    assert client.get(f"/api/v1/content/{second}").json()["status"] == "approved"
    third_now = client.get(f"/api/v1/content/{third}").json()
    assert third_now["status"] == "in_review"  # the stale decision was not applied
    assert third_now["body"] == "Third post, edited by a colleague."  # and the edit was not lost
    assert "changed while you were offline" in page.inner_text(
        f'article[data-post-id="{third}"] .sync-note'
    )
    pending = page.evaluate("window.digipersonaOffline.pending()")
    assert [item["post_id"] for item in pending] == [third]  # kept, not silently dropped
    page.close()


def test_manifest_and_service_worker_are_served(page: Any, live_server: str) -> None:
    manifest = httpx.get(f"{live_server}/static/manifest.webmanifest").json()
    assert manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    sw = httpx.get(f"{live_server}/sw.js")
    assert sw.headers["service-worker-allowed"] == "/"
    assert "application/javascript" in sw.headers["content-type"]
