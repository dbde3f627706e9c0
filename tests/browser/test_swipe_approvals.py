"""Swipe gestures on the phone approval cards: real touch input (CDP) in a touch-enabled phone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import register
from tests.browser.test_offline_approvals import api, in_review

SYNTHETIC_SWIPE = """([selector, x0, y0, dx, dy, steps]) => {
  const el = document.querySelector(selector + " header");
  const touch = (x, y) => new Touch({identifier: 1, target: el, clientX: x, clientY: y});
  const fire = (type, list, changed) => el.dispatchEvent(new TouchEvent(type,
    {touches: list, targetTouches: list, changedTouches: [changed], bubbles: true, cancelable: true}));
  let t = touch(x0, y0);
  fire("touchstart", [t], t);
  for (let i = 1; i <= steps; i++) { t = touch(x0 + dx * i / steps, y0 + dy * i / steps); fire("touchmove", [t], t); }
  fire("touchend", [], t);
}"""


def swipe(
    page: Any, selector: str, dx: float, dy: float = 0.0, steps: int = 8, *, real: bool = True
) -> None:
    """A one-finger swipe across a card's header.

    ``real``: sent as touchscreen input through DevTools (Input.dispatchTouchEvent), the way a
    finger arrives. Otherwise the same touch events are dispatched from page script: an extra
    DevTools session breaks Playwright's offline emulation (navigator.onLine turns true while
    requests still fail), so the offline test uses those.
    """
    card = page.locator(selector)
    card.scroll_into_view_if_needed()
    box = card.locator("header").bounding_box()
    assert box is not None
    x0, y0 = box["x"] + box["width"] / 2 - dx / 2, box["y"] + box["height"] / 2
    if not real:
        page.evaluate(SYNTHETIC_SWIPE, [selector, x0, y0, dx, dy, steps])
        return
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]}
        )
        for i in range(1, steps + 1):
            point = {"x": x0 + dx * i / steps, "y": y0 + dy * i / steps}
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        cdp.detach()


@pytest.fixture
def page(phone: Any) -> Iterator[Any]:
    """A page in the touch-enabled phone context (named ``page`` so a failure saves a screenshot)."""
    page = phone.new_page()
    yield page
    page.close()


def card(post_id: str) -> str:
    return f'article[data-post-id="{post_id}"]'


def test_swipe_right_approves_left_asks_for_a_reason_and_rejects(
    page: Any, live_server: str
) -> None:
    register(page, live_server, email="swipe@example.com")
    client = api(live_server, "swipe@example.com")
    persona = client.post("/api/v1/personas", json={"name": "Swiper"}).json()
    approve_me = in_review(client, persona["id"], "Swipe me right.")
    reject_me = in_review(client, persona["id"], "Swipe me left.")
    stays = in_review(client, persona["id"], "A short or vertical swipe leaves me alone.")

    page.goto(f"{live_server}/approvals")
    assert page.evaluate("'ontouchstart' in window")
    assert page.locator(
        f"{card(approve_me)} button:has-text('Approve')"
    ).is_visible()  # still there

    # Too short, and mostly vertical: nothing is decided.
    swipe(page, card(stays), 40)
    swipe(page, card(stays), 60, dy=200)
    page.wait_for_timeout(300)
    assert client.get(f"/api/v1/content/{stays}").json()["status"] == "in_review"

    with page.expect_navigation():
        swipe(page, card(approve_me), 160)
    assert client.get(f"/api/v1/content/{approve_me}").json()["status"] == "approved"

    # Left without a reason: asked for one, nothing sent.
    swipe(page, card(reject_me), -160)
    note = page.locator(f"{card(reject_me)} .swipe-note")
    note.wait_for()
    assert "Why reject it?" in note.inner_text()
    assert page.evaluate("document.activeElement.name") == "reason"
    assert client.get(f"/api/v1/content/{reject_me}").json()["status"] == "in_review"
    page.fill(f"{card(reject_me)} input[name=reason]", "Too salesy")
    with page.expect_navigation():
        swipe(page, card(reject_me), -160)
    rejected = client.get(f"/api/v1/content/{reject_me}").json()
    assert rejected["status"] == "rejected"
    assert client.get(f"/api/v1/content/{stays}").json()["status"] == "in_review"


def test_swipe_offline_is_queued_and_synced(page: Any, phone: Any, live_server: str) -> None:
    register(page, live_server, email="swipe-off@example.com")
    client = api(live_server, "swipe-off@example.com")
    persona = client.post("/api/v1/personas", json={"name": "Offline swiper"}).json()
    post = in_review(client, persona["id"], "Approved by a swipe in a tunnel.")

    page.goto(f"{live_server}/approvals")
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    phone.set_offline(True)
    page.reload()  # from the service worker's cache, swipe.js included
    swipe(page, card(post), 160, real=False)
    page.wait_for_selector(f'{card(post)} .sync-note[data-kind="queued"]')
    assert client.get(f"/api/v1/content/{post}").json()["status"] == "in_review"
    phone.set_offline(False)
    page.wait_for_selector(f'{card(post)} .sync-note[data-kind="ok"]', timeout=15000)
    assert client.get(f"/api/v1/content/{post}").json()["status"] == "approved"
