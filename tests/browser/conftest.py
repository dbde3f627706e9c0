"""Browser tests: Debian's Chromium driven by Playwright against a live server on loopback.

Never runs ``playwright install``: it launches /usr/bin/chromium. Tests skip with a reason when
Chromium is missing (``.ci/run`` installs it and fails on such skips). Each test saves a
screenshot to test-artifacts/ when it fails.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_settings, serve_app

CHROMIUM = os.environ.get("DIGIPERSONA_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        page = item.funcargs.get("page") if hasattr(item, "funcargs") else None
        if page is not None:
            ARTIFACTS.mkdir(exist_ok=True)
            try:
                page.screenshot(path=str(ARTIFACTS / f"{item.name}.png"), full_page=True)
            except Exception:  # the page may already be gone
                return


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database migrated by Alembic (as `serve` does) per session; each live server starts
    on a copy, so its own start-up upgrade finds the head and does nothing (a full upgrade costs
    seconds per test)."""
    from digipersona import db

    path = tmp_path_factory.mktemp("browser-template") / "browser.db"
    db.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def live_server(tmp_path: Path, migrated_template: Path) -> Iterator[str]:
    """The real app (embedded dispatcher included) on a free loopback port."""
    from digipersona.app import create_app

    port = _free_port()
    shutil.copyfile(migrated_template, tmp_path / "browser.db")
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    settings = make_settings(
        tmp_path,
        url,
        base_url=f"http://127.0.0.1:{port}",
        auto_migrate=True,
        embedded_worker=True,
    )
    app = create_app(settings)
    with serve_app(app, port):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    yield ctx
    ctx.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any) -> Iterator[Any]:
    page = context.new_page()
    yield page
    page.close()


def register(
    page: Any, base: str, email: str = "ui@example.com", password: str = "correct horse 42"
) -> None:
    page.goto(f"{base}/register")
    page.fill("#f-email", email)
    page.fill("#f-password", password)
    page.fill("#f-workspace_name", "UI Co")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/dashboard")


def inject_axe(page: Any, axe_source: str) -> None:
    """Load axe-core as a same-origin script file: the pages' CSP refuses inline scripts."""
    page.route(
        "**/__axe__.js",
        lambda route: route.fulfill(body=axe_source, content_type="application/javascript"),
    )
    page.add_script_tag(url="/__axe__.js")
