"""Issue 17's first hour, end to end in Chromium at desktop size and at 360 px.

Register, make a persona, connect a webhook (its secret copied from the page), write a draft, add
an image and describe it, submit, approve on a phone, schedule a few seconds ahead, watch the
status go to published without a reload, read the history, and copy the iCal address.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from digipersona.kit.time import utcnow
from tests.browser.conftest import register
from tests.browser.test_offline_approvals import api
from tests.fakes.server import serve
from tests.fakes.webhook_receiver import WebhookReceiver

PASSWORD = "correct horse 42"
BERLIN = ZoneInfo("Europe/Berlin")


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 20)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def receiver() -> Iterator[tuple[WebhookReceiver, str]]:
    hook = WebhookReceiver("set-from-the-page")
    with serve(hook) as server:
        yield hook, f"{server.url}/hook"


def _drop_image(page: Any, selector: str, data: bytes, name: str) -> None:
    """Drop a file on an element as a person dragging it from their desktop would."""
    page.evaluate(
        """([selector, b64, name]) => {
          const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([bytes], name, {type: "image/png"}));
          const target = document.querySelector(selector);
          target.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }""",
        [selector, base64.b64encode(data).decode(), name],
    )


def _fits(page: Any) -> None:
    """Nothing makes the page wider than the screen (a phone would zoom out and mis-tap)."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def _login(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#f-email", email)
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/dashboard")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_first_hour(
    browser: Any, live_server: str, receiver: tuple[WebhookReceiver, str], size: str
) -> None:
    hook, hook_url = receiver
    small: dict[str, Any] = {
        "viewport": {"width": 360, "height": 740},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    }
    ctx = browser.new_context(
        **(small if size == "phone" else {"viewport": {"width": 1280, "height": 900}})
    )
    phone = browser.new_context(**small)
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    try:
        page = ctx.new_page()
        email = f"first-{size}@example.com"
        register(page, live_server, email=email)

        page.goto(f"{live_server}/personas/new")
        _fits(page)
        page.fill("#f-name", "Ada")
        page.fill("#f-timezone", "Europe/Berlin")
        page.click("button:has-text('Save')")
        page.wait_for_url(re.compile(r".*/personas/[0-9a-f-]{36}$"))
        persona_id = page.url.rsplit("/", 1)[1]

        # Connect the webhook; its signing secret is shown once, with a Copy button.
        page.goto(f"{live_server}/connections")
        page.click("summary:has-text('Connect an account')")
        page.fill(f"#wu-{persona_id}", hook_url)
        page.click(f"form:has(#wu-{persona_id}) button:has-text('Connect webhook')")
        page.bring_to_front()  # the clipboard takes writes from the focused page only
        page.click("button[data-copy='wh-secret']")
        page.wait_for_selector("#copy-status:has-text('Copied.')")
        hook.secret = page.evaluate("navigator.clipboard.readText()")
        assert hook.secret == page.input_value("#wh-secret")

        # A draft for the webhook only.
        page.goto(f"{live_server}/content")
        page.fill("#n-body", "Our first post, written in the first hour.")
        for platform in ("linkedin", "x", "bluesky"):
            page.uncheck(f"form[action='/content/new'] input[value='{platform}']")
        page.check("form[action='/content/new'] input[value='webhook']")
        page.click("button:has-text('Create draft')")
        page.wait_for_url(re.compile(r".*/content/[0-9a-f-]{36}$"))
        post_id = page.url.rsplit("/", 1)[1]

        # An edit made elsewhere arrives live and the status label stays readable (it went blank).
        page.wait_for_selector("html[data-live=open]", state="attached")
        client = api(live_server, email)
        text = "Our first post, written in the first hour."
        assert client.patch(f"/api/v1/content/{post_id}", json={"body": text}).status_code == 200
        page.wait_for_function(
            "() => document.getElementById('live-region').textContent === 'Post draft'",
            timeout=15000,
        )
        assert page.inner_text(f'[data-live-post="{post_id}"]') == "draft"
        page.reload()

        # An image: dropped on desktop, picked from the gallery on the phone; then described.
        if size == "desktop":
            _drop_image(page, "#media-upload", _png(), "sunrise.png")
        else:
            page.set_input_files(
                "#m-file",
                files=[{"name": "sunrise.png", "mimeType": "image/png", "buffer": _png()}],
            )
        page.wait_for_selector(".media-item img[src^='/media/']")
        assert "sunrise.png has no alt text" in page.inner_text("#post-checks")
        _fits(page)
        page.fill(".media-item input[name=alt_text]", "An orange sunrise over the sea")
        page.click(".media-item button:has-text('Save alt text')")
        page.wait_for_selector("text=Alt text saved.")
        assert page.locator("#post-checks").count() == 0
        assert page.get_attribute(".media-item img", "alt") == "An orange sunrise over the sea"

        page.click("button:has-text('Submit for review')")
        page.wait_for_selector("text=Sent for review.")

        # Approve on the phone.
        mobile = phone.new_page()
        _login(mobile, live_server, email)
        mobile.goto(f"{live_server}/approvals")
        mobile.locator(f'article[data-post-id="{post_id}"] button:has-text("Approve")').click()
        mobile.wait_for_selector("text=Approved.")

        # Schedule a few seconds ahead (the form takes seconds), then watch it go out live.
        page.goto(f"{live_server}/content/{post_id}")
        badge = page.locator(f'[data-live-post="{post_id}"]')
        assert badge.inner_text() == "approved"
        at = (utcnow() + timedelta(seconds=8)).astimezone(BERLIN)
        page.check("input[name=when][value=at]")
        page.fill("#s-at", at.strftime("%Y-%m-%dT%H:%M:%S"))
        page.click("form[action$='/schedule'] button:has-text('Schedule')")
        page.wait_for_selector("text=Scheduled.")
        assert badge.inner_text() == "scheduled"
        assert page.get_attribute(f'[data-live-target="{post_id}:webhook"]', "class").endswith(
            "state-scheduled"
        )
        time_el = page.locator("#targets-h + ul time")
        assert time_el.inner_text().endswith(("CET", "CEST"))
        assert time_el.get_attribute("title").endswith("UTC")
        page.evaluate("window.__marker = 'same page'")
        page.wait_for_function(
            f"() => document.querySelector('[data-live-post=\"{post_id}\"]').textContent "
            "=== 'published'",
            timeout=30000,
        )
        page.wait_for_function(
            f"() => document.querySelector('[data-live-target=\"{post_id}:webhook\"]')"
            ".textContent === 'published'",
            timeout=15000,
        )
        assert page.evaluate("window.__marker") == "same page"
        assert len(hook.deliveries) == 1 and not hook.rejected
        assert hook.deliveries[0].body["body"].startswith("Our first post")

        # The history: who did what, each version.
        page.reload()
        _fits(page)
        history = page.inner_text("#history")
        for words in ("created the post", "scheduled it", "approved", email):
            assert words in history

        # The iCal address, copied from the calendar page.
        page.goto(f"{live_server}/calendar")
        _fits(page)
        page.click("button:has-text('Make a feed address')")
        page.bring_to_front()
        page.click("button[data-copy='feed-url']")
        page.wait_for_selector("#copy-status:has-text('Copied.')")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.startswith(f"{live_server}/ical/") and copied.endswith(".ics")
    finally:
        phone.close()
        ctx.close()
