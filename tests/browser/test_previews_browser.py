"""Previews that look like their networks, and month cells you can scan (issue 25), on the demo
workspace, at desktop size and on a 360 px phone; axe finds nothing serious on those pages."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from sqlalchemy import select

from digipersona import db
from digipersona.demo.content import MAYA, SHARED_POST, SHARED_POST_X, TOMAS
from digipersona.demo.seed import DEMO_EMAIL, seed
from digipersona.models import Post, Publication
from tests.browser.conftest import _free_port
from tests.browser.test_accessibility import audit
from tests.browser.test_accessibility import axe_source as axe_source
from tests.conftest import PASSWORD, make_settings

THREAD = TOMAS.scheduled[2]  # "A year of bootstrapping numbers, as a thread." (X, Bluesky)
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {
        "viewport": {"width": 360, "height": 740},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The real app on loopback over a database the demo filled; post ids by what they say."""
    from digipersona.app import create_app

    tmp = tmp_path_factory.mktemp("demo-browser")
    port = _free_port()
    url = f"sqlite:///{tmp / 'demo.db'}"
    settings = make_settings(
        tmp, url, base_url=f"http://127.0.0.1:{port}", auto_migrate=True, embedded_worker=False
    )
    db.upgrade(url)
    engine = db.make_engine(url)
    factory = db.make_sessionmaker(engine)
    seed(factory, settings, password=PASSWORD)
    with factory() as s:
        ids = {
            body: str(pid)
            for pid, body in s.execute(
                select(Post.id, Post.body).where(Post.body.in_([SHARED_POST, THREAD]))
            )
        }
        at = s.scalar(
            select(Publication.scheduled_at)
            .join(Post, Post.id == Publication.post_id)
            .where(Post.body == MAYA.scheduled[2])
            .limit(1)
        )
    assert at is not None
    engine.dispose()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield {
        "base": f"http://127.0.0.1:{port}",
        "shared": ids[SHARED_POST],
        "thread": ids[THREAD],
        # The month view that shows Maya's "Five questions" post (drawn in her zone).
        "month": at.astimezone(ZoneInfo(MAYA.timezone)).date().isoformat(),
    }
    server.should_exit = True
    thread.join(10)


@pytest.fixture(params=sorted(VIEWPORTS))
def demo_page(request: pytest.FixtureRequest, browser: Any, demo_server: dict[str, str]) -> Any:
    context = browser.new_context(**VIEWPORTS[request.param])
    page = context.new_page()
    base = demo_server["base"]
    page.goto(f"{base}/login")
    page.fill("input[name=email]", DEMO_EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/dashboard")
    yield page
    context.close()


def _two_previews(scope: Any) -> None:
    previews = scope.locator(".preview")
    assert previews.count() == 2
    x, shared = previews.nth(0), previews.nth(1)
    assert x.get_attribute("data-platforms") == "x"
    assert SHARED_POST_X in x.inner_text()
    assert "@tomasbuilds" in x.inner_text()
    assert "X 116/280 weighted characters" in " ".join(x.inner_text().split())
    assert shared.get_attribute("data-platforms") == "linkedin webhook bluesky"
    assert "Same text on LinkedIn, webhook, Bluesky" in shared.inner_text()
    # LinkedIn's fold: the first ~210 characters, then "…see more", then the rest.
    assert shared.locator(".see-more").inner_text() == "…see more"
    shown = shared.locator(".text").first.inner_text().split("…see more")[0]
    assert 150 < len(shown) <= 210 and SHARED_POST.startswith(shown)
    assert shared.locator(".folded").inner_text().strip() in SHARED_POST
    for platform in ("LinkedIn", "Webhook", "Bluesky"):
        assert f"{platform} 2" in shared.locator(".counter").inner_text()
    for preview in (x, shared):
        box = preview.bounding_box()
        width = preview.page.viewport_size["width"]
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


def test_approval_card_and_editor_show_each_text_once(
    demo_page: Any, demo_server: dict[str, str]
) -> None:
    base = demo_server["base"]
    demo_page.goto(f"{base}/approvals")
    card = demo_page.locator("article.approval", has_text="reminder texts")
    assert card.count() == 1
    _two_previews(card)
    # No platform heading without content under it.
    for heading in card.locator(".preview-label").all():
        assert heading.inner_text().strip()
    demo_page.goto(f"{base}/content/{demo_server['shared']}")
    # The live preview (loaded with the page) keeps the X text written by hand.
    demo_page.wait_for_load_state("networkidle")
    _two_previews(demo_page.locator("#previews"))


def test_thread_preview_shows_numbered_parts(demo_page: Any, demo_server: dict[str, str]) -> None:
    demo_page.goto(f"{demo_server['base']}/content/{demo_server['thread']}")
    demo_page.wait_for_load_state("networkidle")
    x = demo_page.locator(".preview[data-platforms~=x]")
    parts = x.locator(".post-part")
    count = parts.count()
    assert count >= 2
    numbers = [parts.nth(i).locator(".part-no").inner_text() for i in range(count)]
    assert numbers == [f"{i}/{count}" for i in range(1, count + 1)]
    assert "A year of bootstrapping numbers" in parts.nth(0).inner_text()
    assert "talk to ten customers a month" in parts.nth(count - 1).inner_text()


def test_month_calendar_shows_persona_platforms_and_first_words(
    demo_page: Any, demo_server: dict[str, str]
) -> None:
    demo_page.goto(f"{demo_server['base']}/calendar?start={demo_server['month']}")
    item = demo_page.locator(".cal-item", has_text="Five questions I ask").first
    item.wait_for()
    assert item.locator("svg.persona-dot circle").get_attribute("fill") == "#7c3aed"
    marks = [m.get_attribute("title") for m in item.locator(".picon").all()]
    assert sorted(marks) == ["Bluesky", "LinkedIn", "X"]
    assert item.locator(".cal-words").is_visible()
    full = item.locator(".cal-full")
    assert not full.is_visible()
    item.focus()  # keyboard, and a tap's first touch
    assert full.is_visible()
    text = full.inner_text()
    assert "Maya Okafor" in text and "scheduled" in text and "How does it fail?" in text
    item.blur()
    assert not full.is_visible()
    if demo_page.viewport_size["width"] > 500:
        item.hover()
        assert full.is_visible()


def test_no_serious_accessibility_violation(
    demo_page: Any, demo_server: dict[str, str], axe_source: str
) -> None:
    base = demo_server["base"]
    found: list[str] = []
    for path in ("/approvals", f"/content/{demo_server['shared']}", "/calendar", "/dashboard"):
        found += audit(demo_page, axe_source, f"{base}{path}")
    assert found == [], "\n".join(found)
