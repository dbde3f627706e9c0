"""The shell in a real browser: register, log in and out, create a persona, phone layout."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import register

PAGES = [
    "/dashboard",
    "/personas",
    "/content",
    "/approvals",
    "/calendar",
    "/interactions",
    "/analytics",
    "/connections",
    "/settings",
    "/jobs",
]


def test_register_login_logout_and_create_persona(page: Any, live_server: str) -> None:
    register(page, live_server)
    page.click("text=Log out")
    page.wait_for_url(f"{live_server}/login")
    page.goto(f"{live_server}/personas")
    page.wait_for_url(f"{live_server}/login?next=/personas")
    page.fill("input[type=email]", "ui@example.com")
    page.fill("input[type=password]", "correct horse 42")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/personas")
    page.click("text=New persona")
    page.fill("#f-name", "Browser Dana")
    page.fill("#f-timezone", "Not/AZone")
    page.click("button:has-text('Save')")
    assert "Unknown time zone" in page.inner_text("#e-timezone")
    assert page.input_value("#f-name") == "Browser Dana"  # kept what was typed
    page.fill("#f-timezone", "Europe/Berlin")
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=Tuesdays and Thursdays at 06:30 Europe/Berlin")


def test_every_page_fits_a_phone_without_horizontal_scroll(phone: Any, live_server: str) -> None:
    page = phone.new_page()
    register(page, live_server, email="phone@example.com")
    for path in PAGES:
        page.goto(f"{live_server}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 360px"
        assert page.locator("nav[aria-label=Main]").is_visible()
    page.close()


def test_csrf_failure_is_a_clear_page(page: Any, live_server: str) -> None:
    register(page, live_server, email="csrf@example.com")
    page.goto(f"{live_server}/personas/new")
    page.evaluate(
        "document.querySelectorAll('main input[name=csrf_token]').forEach(e => e.value = 'forged')"
    )
    page.fill("#f-name", "X")
    page.click("button:has-text('Save')")
    assert "CSRF check failed" in page.content()
