"""scripts/screenshots.py runs end to end: serve, the demo, Chromium, five small PNGs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("DIGIPERSONA_CHROMIUM", "/usr/bin/chromium")

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_screenshots_script_writes_the_guide_images(tmp_path: Path) -> None:
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's chromium package")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGIPERSONA_")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "screenshots.py"), "--out", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names == [
        "analytics.png",
        "approval-phone.png",
        "calendar.png",
        "dashboard.png",
        "inbox.png",
    ]
    for name in names:
        path = tmp_path / name
        assert 5_000 < path.stat().st_size < 300_000, name
        with Image.open(path) as image:
            if name == "approval-phone.png":
                assert image.width <= 720  # a 360 px phone at twice the density
            else:
                assert image.size == (1280, 800)
    # The pictures the guide shows are the ones this script writes.
    for name in names:
        assert (ROOT / "docs" / "images" / name).exists(), name
