"""The Content-Security-Policy in a real browser: nothing on our pages trips it, what moved out of
inline handlers still works, and the API docs render from local files."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import register
from tests.browser.test_shell_browser import PAGES


def _watch_csp(page: Any) -> list[str]:
    """Every CSP violation the page reports (console messages and violation events)."""
    seen: list[str] = []
    page.on(
        "console",
        lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return seen


def test_no_page_violates_the_policy(page: Any, live_server: str) -> None:
    violations = _watch_csp(page)
    register(page, live_server, email="csp@example.com")
    for path in [*PAGES, "/personas/new", "/notifications"]:
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
    page.goto(f"{live_server}/api/docs")
    page.wait_for_selector(".swagger-ui .info .title:has-text('digipersona')")
    page.wait_for_selector(".opblock-tag:has-text('auth')")
    assert violations == []


def test_confirm_and_back_work_without_inline_handlers(page: Any, live_server: str) -> None:
    violations = _watch_csp(page)
    register(page, live_server, email="csp2@example.com")
    page.goto(f"{live_server}/personas/new")
    page.fill("#f-name", "Keep Me")
    page.fill("#f-timezone", "Europe/Berlin")
    page.click("button:has-text('Save')")
    page.wait_for_selector("button:has-text('Delete persona')")
    persona_url = page.url
    # Declining the confirmation keeps the persona.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("button:has-text('Delete persona')")
    page.wait_for_load_state("networkidle")
    assert page.url == persona_url
    # An error page's "Go back" returns to where we were.
    page.goto(f"{live_server}/content/00000000-0000-0000-0000-000000000000")
    page.click("button:has-text('Go back')")
    page.wait_for_url(persona_url)
    # Accepting it deletes.
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Delete persona')")
    page.wait_for_url(f"{live_server}/personas*")
    assert "Keep Me" not in page.inner_text("main")
    assert violations == []
