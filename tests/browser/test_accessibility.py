"""Accessibility: axe-core on every page, no serious or critical violation (desktop and phone).

axe-core is installed by scripts/peers/install-axe.sh (from scripts/peers/install-all.sh) into
``${DIGIPERSONA_PEERS_DIR:-~/.cache/digipersona/peers}/axe``; the test injects it into each page.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import inject_axe, register
from tests.browser.test_offline_approvals import api, in_review

PUBLIC_PAGES = ["/login", "/register"]
PAGES = [
    "/dashboard",
    "/dashboard?tab=interactions",
    "/dashboard?tab=analytics",
    "/personas",
    "/content",
    "/calendar",
    "/calendar?view=week",
    "/approvals",
    "/interactions",
    "/analytics",
    "/connections",
    "/settings",
    "/jobs",
    "/notifications",
    "/personas/new",
    "/media",
    "/settings/audit",
]
# Pages of the seeded persona and post ({persona}, {post} are filled in).
SEEDED_PAGES = [
    "/personas/{persona}",
    "/personas/{persona}/edit",
    "/content/{post}",
    "/content/{post}/ab-test",
]
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " :: " + n.failureSummary)}));
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    base = os.environ.get("DIGIPERSONA_PEERS_DIR") or str(
        Path.home() / ".cache" / "digipersona" / "peers"
    )
    path = Path(base) / "axe" / "node_modules" / "axe-core" / "axe.min.js"
    if not path.exists():
        pytest.skip(f"axe-core not installed at {path}: run scripts/peers/install-axe.sh")
    return path.read_text(encoding="utf-8")


def audit(page: Any, axe_source: str, url: str) -> list[str]:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    inject_axe(page, axe_source)
    violations = page.evaluate(RUN_AXE)
    return [
        f"{url}: {v['impact']} {v['id']} ({v['help']})\n      " + "\n      ".join(v["nodes"])
        for v in violations
    ]


def seed(base: str, email: str) -> dict[str, str]:
    """Something on each page: a persona, a post in review, one approved, a webhook."""
    client = api(base, email)
    persona = client.post(
        "/api/v1/personas", json={"name": "Ada", "timezone": "Europe/Berlin"}
    ).json()
    in_review(client, persona["id"], "A post waiting for review, with #hashtags.")
    post = in_review(client, persona["id"], "An approved post.")
    client.post(f"/api/v1/content/{post}/approve", json={})
    client.put("/api/v1/notifications/webhook", json={"url": "http://127.0.0.1:9/hook"})
    client.post(
        f"/api/v1/personas/{persona['id']}/autopilot/triggers",
        json={"kind": "webhook", "name": "Releases"},
    )
    return {"persona": persona["id"], "post": post}


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_no_serious_or_critical_violations_on_any_page(
    browser: Any, live_server: str, axe_source: str, viewport: str
) -> None:
    options: dict[str, Any] = (
        {"viewport": {"width": 1280, "height": 900}}
        if viewport == "desktop"
        else {
            "viewport": {"width": 360, "height": 740},
            "is_mobile": True,
            "has_touch": True,
        }
    )
    context = browser.new_context(**options)
    page = context.new_page()
    try:
        problems: list[str] = []
        for path in PUBLIC_PAGES:
            problems += audit(page, axe_source, live_server + path)
        email = f"a11y-{viewport}@example.com"
        register(page, live_server, email=email)
        ids = seed(live_server, email)
        for path in PAGES + [p.format(**ids) for p in SEEDED_PAGES]:
            problems += audit(page, axe_source, live_server + path)
        assert not problems, "axe-core found:\n" + "\n".join(problems)
    finally:
        context.close()


def test_keyboard_users_can_skip_to_the_content(page: Any, live_server: str) -> None:
    register(page, live_server, email="keys@example.com")
    page.goto(f"{live_server}/settings")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "(() => { const e = document.activeElement; const r = e.getBoundingClientRect();"
        " return {text: e.textContent.trim(), visible: r.left >= 0 && r.top >= 0,"
        " outline: getComputedStyle(e).outlineStyle}; })()"
    )
    assert focused["text"] == "Skip to content" and focused["visible"]
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # The notification checkboxes are reachable and show a focus ring.
    box = page.locator("#pref-approval-requested-email")
    box.focus()
    page.keyboard.press("Space")
    assert not box.is_checked()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
