"""The dashboard's Content, Interactions and Analytics tabs at 360 px and with the keyboard only:
every tab is reachable with Tab, shows an unclipped focus ring, opens with Enter, and no tab
makes the page scroll sideways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser.conftest import register
from tests.browser.test_analytics_browser import seed_history
from tests.browser.test_interactions_browser import _seed as seed_interactions
from tests.browser.test_offline_approvals import api, in_review

TABS = ("Content", "Interactions", "Analytics")
FOCUS = """() => {
  const e = document.activeElement;
  const s = getComputedStyle(e);
  const r = e.getBoundingClientRect();
  const ring = parseFloat(s.outlineWidth) + Math.max(0, parseFloat(s.outlineOffset) || 0);
  // The nearest ancestor that clips (overflow other than visible).
  let clip = null;
  for (let p = e.parentElement; p; p = p.parentElement) {
    const o = getComputedStyle(p);
    if (o.overflowX !== "visible" || o.overflowY !== "visible") { clip = p.getBoundingClientRect(); break; }
  }
  const inside = !clip || (r.top - ring >= clip.top - 0.5 && r.bottom + ring <= clip.bottom + 0.5
    && r.left - ring >= clip.left - 0.5 && r.right + ring <= clip.right + 0.5);
  return {text: e.textContent.trim(), role: e.getAttribute("role"), outline: s.outlineStyle,
          width: parseFloat(s.outlineWidth), inside, inView: r.left >= 0 && r.right <= innerWidth};
}"""


def _overflow(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def _tab_to(page: Any, label: str, limit: int = 40) -> dict[str, Any]:
    """Press Tab until the dashboard tab ``label`` has focus; its focus facts."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        facts: dict[str, Any] = page.evaluate(FOCUS)
        if facts["text"] == label and page.evaluate(
            "document.activeElement.closest('.tabs') !== null"
        ):
            return facts
    raise AssertionError(f"the {label} tab cannot be reached with Tab")


def test_dashboard_tabs_on_a_phone_with_the_keyboard(
    phone: Any, live_server: str, tmp_path: Path
) -> None:
    email = "tabs@example.com"
    page = phone.new_page()
    register(page, live_server, email=email)
    client = api(live_server, email)
    persona = client.post("/api/v1/personas", json={"name": "Tab Dana"}).json()
    in_review(client, persona["id"], "A post in review with a long line " + "word " * 40)
    seed_interactions(tmp_path, email)
    seed_history(tmp_path)

    page.goto(f"{live_server}/dashboard")
    for label in TABS:
        facts = _tab_to(page, label)
        assert facts["outline"] != "none" and facts["width"] >= 2, facts
        assert facts["inside"], f"the focus ring of {label} is clipped: {facts}"
        assert facts["inView"], f"the {label} tab is off screen at 360 px: {facts}"
        page.keyboard.press("Enter")
        # Enter starts the navigation asynchronously: wait for the new URL, not for the
        # current page's network to be idle (that raced and saw the old page).
        page.wait_for_url(f"**/dashboard?tab={label.lower()}")
        page.wait_for_load_state("networkidle")
        selected = page.locator(".tabs [aria-current='page']")
        assert selected.inner_text().strip() == label
        panel = page.locator("#dashboard-panel")
        assert panel.get_attribute("aria-labelledby") == f"tab-{label.lower()}"
        assert _overflow(page) <= 0, f"the {label} tab scrolls sideways at 360 px"
        if label == "Interactions":
            page.wait_for_selector("text=do you consult")
        if label == "Analytics":
            assert page.locator("svg.chart").first.is_visible()
        # Every link and control of the tab is inside the viewport's width.
        wide = page.evaluate(
            "[...document.querySelectorAll('main a, main button, main input, main select')]"
            ".filter(e => e.offsetParent && e.getBoundingClientRect().right > innerWidth + 1)"
            ".map(e => e.outerHTML.slice(0, 80))"
        )
        assert not wide, f"{label}: controls past the right edge: {wide}"
        page.goto(f"{live_server}/dashboard?tab={label.lower()}")
    page.close()
