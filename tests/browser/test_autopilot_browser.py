"""The persona page's Autopilot section in a real browser, on a phone-sized screen."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import register


def test_add_a_rule_and_a_feed_on_a_phone(phone: Any, live_server: str) -> None:
    page = phone.new_page()
    register(page, live_server, email="autopilot@example.com")
    page.goto(f"{live_server}/personas/new")
    page.fill("#f-name", "Dana")
    page.fill("#f-topics", "platform teams, developer experience")
    page.fill("#f-timezone", "Europe/Berlin")
    # The phone's bottom navigation can cover the Save button; submit from the field.
    page.press("#f-timezone", "Enter")
    page.wait_for_selector("text=No drafting rule yet")

    page.click("summary:has-text('Add a drafting rule')")
    page.fill("#ap-rrule", "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0")
    page.fill("#ap-count", "2")
    page.press("#ap-count", "Enter")
    page.wait_for_selector("text=Rule added")
    section = page.inner_text("#autopilot")
    assert "08:00 (Europe/Berlin): 2 LinkedIn drafts on" in section
    assert "to review" in section and "Mondays at 08:00 Europe/Berlin" in section

    page.click("summary:has-text('Add a feed')")
    # Loopback only: the live server's embedded scheduler may poll it.
    long_url = "http://127.0.0.1:9/" + "very-long-path-segment-" * 8 + "feed.xml"
    page.fill("#ap-feed", long_url)
    page.press("#ap-feed", "Enter")
    page.wait_for_selector("text=Feed added")
    assert long_url in page.inner_text("#autopilot")

    for details in page.locator("#autopilot details").all():
        details.evaluate("d => d.open = true")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the persona page scrolls sideways by {overflow}px at 360px"
    page.close()
