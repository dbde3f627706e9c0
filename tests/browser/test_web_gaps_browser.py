"""Reply templates on the persona form, inbound webhooks and engagement follow-ups in the
Autopilot section, and the A/B test form, in a real browser on a 360 px phone."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import inject_axe, register
from tests.browser.test_accessibility import RUN_AXE, axe_source  # noqa: F401 (fixture)
from tests.browser.test_offline_approvals import api


def _overflow(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_reply_templates_and_webhook_on_a_phone(
    browser: Any,
    live_server: str,
    axe_source: str,  # noqa: F811
) -> None:
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page = context.new_page()
    try:
        register(page, live_server, email="gaps@example.com")
        page.goto(f"{live_server}/personas/new")
        page.fill("#f-name", "Rita")
        page.fill("#f-rt_id_0", "bad id!")
        page.fill("#f-rt_class_0", "gratitude")
        page.fill("#f-rt_text_0", "Thanks {author}!")
        page.fill("#f-auto_send_classes", "gratitude")
        assert _overflow(page) <= 0, "the persona form scrolls sideways at 360 px"
        page.press("#f-auto_send_classes", "Enter")
        # The server's message next to the field, what was typed kept.
        error = page.locator("#e-rt_id_0")
        error.wait_for()
        assert "letters, digits" in error.inner_text()
        assert page.input_value("#f-rt_id_0") == "bad id!"
        assert page.input_value("#f-rt_text_0") == "Thanks {author}!"
        assert page.get_attribute("#f-rt_id_0", "aria-describedby") == "e-rt_id_0"
        page.fill("#f-rt_id_0", "thanks")
        page.press("#f-auto_send_classes", "Enter")
        page.wait_for_selector("text=Persona Rita created")

        page.click("summary:has-text('Add an inbound webhook')")
        page.fill("#ap-wh-name", "Release notes")
        page.click("button:has-text('Add webhook')")
        page.wait_for_selector("text=Copy these now")
        token = page.input_value("#wh-token")
        url = page.input_value("#wh-url")
        assert token.startswith("dp_hook_") and url.startswith(f"{live_server}/api/v1/personas/")
        assert _overflow(page) <= 0, "the webhook token page scrolls sideways at 360 px"
        page.click("button:has-text('Copy token')")
        page.wait_for_selector("#copy-status:has-text('Copied')")
        assert page.evaluate("navigator.clipboard.readText()") == token
        inject_axe(page, axe_source)
        assert page.evaluate(RUN_AXE) == []

        # The token works; back on the persona page it is not shown again.
        client = api(live_server, "gaps@example.com")
        r = client.post(
            url.removeprefix(live_server),
            json={"title": "v1.0", "text": "First release"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 202, r.text
        page.click("text=Back to the persona")
        page.wait_for_selector("#autopilot")
        assert token not in page.content()
        # Rotate: a new token, shown once.
        page.click("button:has-text('New token')")
        page.wait_for_selector("text=The old token stopped working")
        assert page.input_value("#wh-token") not in ("", token)

        # Engagement follow-ups, keyboard only.
        page.click("text=Back to the persona")
        button = page.locator("button:has-text('Turn engagement follow-ups on')")
        button.focus()
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Engagement follow-ups are on")
        page.locator("button:has-text('Turn engagement follow-ups off')").wait_for()
        for details in page.locator("#autopilot details").all():
            details.evaluate("d => d.open = true")
        assert _overflow(page) <= 0, "the persona page scrolls sideways at 360 px"
    finally:
        context.close()


def test_start_an_ab_test_from_the_editor_on_a_phone(phone: Any, live_server: str) -> None:
    page = phone.new_page()
    register(page, live_server, email="ab@example.com")
    client = api(live_server, "ab@example.com")
    persona = client.post("/api/v1/personas", json={"name": "Ab Dana"}).json()
    post = client.post(
        "/api/v1/content",
        json={"persona_id": persona["id"], "body": "Statement hook.", "platforms": ["x"]},
    ).json()
    page.goto(f"{live_server}/content/{post['id']}")
    page.click("text=Start an A/B test with this post as variant A")  # loaded by htmx
    page.wait_for_selector("h1:has-text('Start an A/B test')")
    assert _overflow(page) <= 0, "the A/B form scrolls sideways at 360 px"
    # Nothing chosen: the server says what is missing next to the field.
    page.click("button:has-text('Start the A/B test')")
    page.wait_for_selector("#e-post_b_id")
    page.check("input[name=source][value=write]")
    page.fill("#f-body_b", "Question hook?")
    page.fill("#f-name", "Hook")
    page.click("button:has-text('Start the A/B test')")
    page.wait_for_selector("text=A/B test started")
    page.wait_for_selector("#ab-tests :text('This post is variant A')")
    assert "Waiting for figures of both variants" in page.inner_text("#ab-tests")
    assert _overflow(page) <= 0
    page.close()
