"""Analytics in a real browser: charts and tables fit a 360 px phone; the editor loads its
engagement forecast through htmx."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from digipersona import db
from digipersona.models import Persona, Workspace
from tests.analytics.test_api import FULL, seed
from tests.browser.conftest import register
from tests.conftest import Actor


def seed_history(tmp_path: Path) -> tuple[str, str]:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'browser.db'}")
    factory = db.make_sessionmaker(engine)
    # The live server's embedded jobs write too: take the write lock up front (a deferred
    # SQLite transaction that reads, then writes, fails at once when another writer won).
    with db.write_scope(factory) as s:
        ws = s.scalars(select(Workspace)).one()
        persona = Persona(workspace_id=ws.id, name="Chart Dana", timezone="Europe/Berlin")
        s.add(persona)
        s.flush()
        ws_id, pid = ws.id, str(persona.id)
    owner = Actor(name="o", email="", client=None)  # type: ignore[arg-type]
    owner.workspace_id = ws_id
    now = datetime.now(UTC).replace(microsecond=0)
    post_id = ""
    for n in range(14):
        post_id, _ = seed(
            factory,
            owner,
            pid,
            "x" if n % 3 else "linkedin",
            now - timedelta(days=2 * n + 1, hours=n % 5),
            {**FULL, "likes": 5 + 3 * (n % 4)} if n % 3 else None,
            body=f"A fairly long post number {n} about platform teams and what they ship " * 2,
        )
    engine.dispose()
    return pid, post_id


def test_analytics_fits_a_phone_and_editor_loads_forecast(
    phone: Any, live_server: str, tmp_path: Path
) -> None:
    page = phone.new_page()
    register(page, live_server, email="charts@example.com")
    pid, post_id = seed_history(tmp_path)
    for path in (f"/analytics?persona_id={pid}", "/dashboard?tab=analytics"):
        page.goto(f"{live_server}{path}")
        assert page.locator("svg.chart").first.is_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 360px"
    assert "r_member_postAnalytics" in page.content()
    page.goto(f"{live_server}/content/{post_id}")
    page.wait_for_selector("#forecast .prediction")
    assert "Not enough history" in page.inner_text("#forecast")
    assert uuid.UUID(pid)
    page.close()
