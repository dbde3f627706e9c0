"""/jobs lists live processes, and stopped ones as "last seen ... ago", bounded (issue 17)."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from digipersona.kit.time import utcnow
from digipersona.models import Heartbeat
from digipersona.publishing import engine
from digipersona.publishing.calendar import GONE_SHOWN
from tests.conftest import Actor
from tests.publishing.conftest import World
from tests.web.test_shell import web_login


def _beats(session_factory: Any) -> None:
    now = utcnow()
    with session_factory.begin() as s:
        s.add(Heartbeat(name="embedded:web1:11:live", kind="scheduler", beat_at=now))
        s.add(
            Heartbeat(
                name="embedded:web1:10:gone", kind="scheduler", beat_at=now - timedelta(hours=2)
            )
        )
        s.add(
            Heartbeat(
                name="scheduler:old:3:gone", kind="scheduler", beat_at=now - timedelta(days=3)
            )
        )
        for i in range(GONE_SHOWN + 3):
            s.add(Heartbeat(name=f"embedded:restart:{i}", kind="scheduler",
                            beat_at=now - timedelta(hours=3, minutes=i)))  # fmt: skip


def test_jobs_api_separates_live_and_stopped_processes(
    client: Any, owner: Actor, session_factory: Any
) -> None:
    _beats(session_factory)
    answer = owner.get("/api/v1/jobs").json()
    beats = answer["heartbeats"]
    assert [b["name"] for b in beats if b["alive"]] == ["embedded:web1:11:live"]
    gone = [b for b in beats if not b["alive"]]
    assert len(gone) == GONE_SHOWN
    assert gone[0]["name"] == "embedded:web1:10:gone"
    assert 7200 <= gone[0]["age_seconds"] < 7300
    assert "scheduler:old:3:gone" not in {b["name"] for b in beats}
    # 1 + (GONE_SHOWN + 3) + 1 stopped, GONE_SHOWN shown.
    assert answer["processes_not_shown"] == 5


def test_jobs_page_says_last_seen_with_age(client: Any, owner: Actor, session_factory: Any) -> None:
    _beats(session_factory)
    web_login(client, owner.email)
    page = html.unescape(client.get("/jobs").text)
    assert page.count('class="process alive"') == 1
    assert page.count('class="process gone"') == GONE_SHOWN
    assert "embedded:web1:10:gone</code> <span" in page
    assert "last seen 2 hours ago" in page
    assert "5 older stopped processes not shown." in page


def test_week_old_heartbeats_are_forgotten(world: World) -> None:
    now = world.clock.now
    with world.runtime.factory.begin() as s:
        s.add(Heartbeat(name="ancient", kind="scheduler", beat_at=now - timedelta(days=8)))
        s.add(Heartbeat(name="recent", kind="scheduler", beat_at=now - timedelta(days=6)))
    assert engine.periodic_checks(world.engine)["forgotten"] == 1
    with world.runtime.factory() as s:
        assert list(s.scalars(select(Heartbeat.name))) == ["recent"]
