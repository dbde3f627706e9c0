"""The guide's screenshots, taken from a real ``digipersona serve`` over the demo workspace.

    .venv/bin/python scripts/screenshots.py [--out docs/images]

Starts ``digipersona serve`` on a temporary data directory (SQLite), fills it with
``digipersona demo``, logs in with Debian's Chromium through Playwright (never ``playwright
install``) and writes small PNGs: the dashboard, calendar, analytics and inbox on a desktop, and
an approval card on a 360 px phone. Nothing reaches the network: the server listens on loopback
and the demo's connections never talk to a platform.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from PIL import Image
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("DIGIPERSONA_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "picture window 73"  # noqa: S105 (the throwaway demo owner's)
EMAIL = "demo@example.com"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
# Desktop pages: file name, path, what must be on the page before the picture is taken, and
# what to scroll to the top (the analytics charts sit below the totals).
PAGES = (
    ("dashboard.png", "/dashboard", "text=Maya Okafor", None),
    ("calendar.png", "/calendar", ".cal-item", None),
    ("analytics.png", "/analytics?days=30", "svg", "h2:has-text('Engagement over time')"),
    ("inbox.png", "/interactions", "text=Dana Brooks", None),
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGIPERSONA_")}
    env.update(
        {
            "DIGIPERSONA_DATA_DIR": str(data_dir),
            "DIGIPERSONA_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "DIGIPERSONA_SECRET_KEY": "screenshots-" + "x" * 40,
            "DIGIPERSONA_LOG_LEVEL": "WARNING",
        }
    )
    return env


def _digipersona() -> list[str]:
    return [sys.executable, "-m", "digipersona"]


@contextmanager
def serving(data_dir: Path) -> Iterator[str]:
    """``digipersona demo`` then ``digipersona serve`` on a free loopback port; its URL."""
    env = _env(data_dir)
    subprocess.run(  # noqa: S603 (our own command line)
        [*_digipersona(), "demo", "--password", PASSWORD],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=300,
    )
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env["DIGIPERSONA_BASE_URL"] = base
    server = subprocess.Popen(  # noqa: S603 (our own command line)
        [*_digipersona(), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"serve stopped: {server.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("serve did not answer /healthz within 120 s")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _login(page: Page, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/dashboard")


def _small(path: Path) -> None:
    """Fewer colours, same look: a screenshot of flat UI needs no more than 256."""
    with Image.open(path) as image:
        quantized = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    quantized.save(path, optimize=True)


def take(out: Path, chromium: str = CHROMIUM) -> list[Path]:
    """Write the screenshots into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with (
        tempfile.TemporaryDirectory(prefix="dp-shots-") as tmp,
        serving(Path(tmp)) as base,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(
            executable_path=chromium,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        try:
            desktop = browser.new_context(viewport=DESKTOP, reduced_motion="reduce")
            page = desktop.new_page()
            _login(page, base)
            for name, path, ready, top in PAGES:
                page.goto(f"{base}{path}")
                page.wait_for_selector(ready, state="attached")
                page.wait_for_load_state("networkidle")
                if top is not None:
                    page.locator(top).first.evaluate("el => el.scrollIntoView()")
                page.screenshot(path=str(out / name))
                written.append(out / name)
            desktop.close()
            phone = browser.new_context(
                viewport=PHONE,
                is_mobile=True,
                has_touch=True,
                device_scale_factor=2,
                reduced_motion="reduce",
            )
            page = phone.new_page()
            _login(page, base)
            page.goto(f"{base}/approvals")
            card = page.locator("article.approval", has_text="reminder texts").first
            card.wait_for()
            card.screenshot(path=str(out / "approval-phone.png"))
            written.append(out / "approval-phone.png")
            phone.close()
        finally:
            browser.close()
    for path in written:
        _small(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args()
    if not (Path(args.chromium).exists() or shutil.which("chromium")):
        sys.exit(f"Chromium not found at {args.chromium}: install Debian's chromium package.")
    for path in take(args.out, args.chromium):
        print(  # noqa: T201 (a script reporting what it wrote)
            f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
            f"{path.stat().st_size // 1024} KiB"
        )


if __name__ == "__main__":
    main()
