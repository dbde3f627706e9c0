"""The database gauges on /metrics: true figures from the tables, read at scrape time."""

from __future__ import annotations

import math
import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker

from digipersona import db
from digipersona.kit.time import utcnow
from digipersona.models import (
    Connection,
    GenerationRule,
    Heartbeat,
    InteractionPoll,
    Membership,
    Persona,
    Post,
    Publication,
    User,
    Workspace,
)
from digipersona.monitoring.gauges import DatabaseGauges, gauges_registry


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = client.get("/metrics").text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def seed(factory: sessionmaker[Session]) -> None:
    now = utcnow()
    with db.session_scope(factory) as s:
        ws = Workspace(name="Gauges")
        user = User(email=f"{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
        s.add_all([ws, user])
        s.flush()
        s.add(Membership(workspace_id=ws.id, user_id=user.id, role="owner"))
        persona = Persona(workspace_id=ws.id, name="P")
        s.add(persona)
        s.flush()

        def connection(account: str, state: str, **kw: Any) -> Connection:
            c = Connection(
                workspace_id=ws.id,
                persona_id=persona.id,
                platform="linkedin",
                account_id=account,
                access_token_enc="x",
                state=state,
                **kw,
            )
            s.add(c)
            s.flush()
            return c

        active = connection("a", "active", expires_at=now + timedelta(days=3))
        connection("b", "needs_reconnect")
        connection("c", "active", expires_at=now + timedelta(days=3), refresh_token_enc="r")
        connection("d", "paused", expires_at=now + timedelta(days=30))
        post = Post(workspace_id=ws.id, persona_id=persona.id, body="b", platforms=["linkedin"])
        s.add(post)
        s.flush()
        for state, due in [
            ("scheduled", now - timedelta(minutes=10)),
            ("scheduled", now - timedelta(minutes=1)),
            ("scheduled", now + timedelta(hours=1)),
            ("unknown", now - timedelta(minutes=2)),
            ("published", now - timedelta(days=1)),
            ("failed", now - timedelta(days=1)),
        ]:
            s.add(
                Publication(
                    workspace_id=ws.id,
                    post_id=post.id,
                    connection_id=active.id,
                    platform="linkedin",
                    scheduled_at=due,
                    next_attempt_at=due,
                    state=state,
                    idempotency_key=uuid.uuid4().hex,
                )
            )
        s.add(Heartbeat(name="sched-1", kind="scheduler", beat_at=now - timedelta(seconds=30)))
        s.add(Heartbeat(name="old", kind="scheduler", beat_at=now - timedelta(hours=3)))
        for failures in (0, 2, 1):
            s.add(
                GenerationRule(
                    workspace_id=ws.id, persona_id=persona.id, rrule="FREQ=DAILY", failures=failures
                )
            )
        s.add(
            InteractionPoll(
                connection_id=active.id,
                workspace_id=ws.id,
                platform="linkedin",
                next_poll_at=now - timedelta(minutes=20),
                last_polled_at=now - timedelta(minutes=35),
            )
        )


def test_metrics_show_the_database_gauges(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    empty = samples(client)
    assert empty[("digipersona_database_up", ())] == 1
    # Nothing ever beat: the age is infinite, so the heartbeat alert fires on a new install.
    assert math.isinf(empty[("digipersona_scheduler_heartbeat_age_seconds", ())])
    assert ("digipersona_interactions_poll_overdue_seconds", ()) not in empty
    seed(session_factory)
    # A fresh collector: the app's one answers from its cache for a few seconds.
    client.app.state.gauges_registry = gauges_registry(session_factory)  # type: ignore[attr-defined]
    got = samples(client)
    state = lambda name, value: got[(name, (("state", value),))]  # noqa: E731
    assert state("digipersona_publications_in_state", "scheduled") == 3
    assert state("digipersona_publications_in_state", "unknown") == 1
    assert state("digipersona_publications_in_state", "published") == 1
    assert state("digipersona_publications_in_state", "missed") == 0
    assert got[("digipersona_publications_overdue", ())] == 3
    assert 590 <= got[("digipersona_publications_overdue_oldest_seconds", ())] < 700
    assert state("digipersona_connections_in_state", "active") == 2
    assert state("digipersona_connections_in_state", "needs_reconnect") == 1
    assert state("digipersona_connections_in_state", "paused") == 1
    assert state("digipersona_connections_in_state", "expiring") == 0
    # Only the one that ends within 7 days and has no refresh token.
    assert got[("digipersona_connections_expiring_soon", ())] == 1
    assert 25 <= got[("digipersona_scheduler_heartbeat_age_seconds", ())] < 120
    assert got[("digipersona_autopilot_rules_failing", ())] == 2
    assert 35 * 60 <= got[("digipersona_interactions_last_poll_age_seconds", ())] < 40 * 60
    assert 20 * 60 <= got[("digipersona_interactions_poll_overdue_seconds", ())] < 25 * 60


def test_gauges_are_cached_and_say_when_the_database_is_gone(
    session_factory: sessionmaker[Session],
) -> None:
    gauges = DatabaseGauges(session_factory, ttl=3600)
    first = gauges.snapshot()
    assert first is not None
    seed(session_factory)
    assert gauges.snapshot() is first  # within the ttl: no query
    gauges.ttl = 0
    fresh = gauges.snapshot()
    assert fresh is not None and fresh.overdue == 3

    def broken() -> Session:
        raise OSError("database is gone")

    down = DatabaseGauges(broken, ttl=0)  # type: ignore[arg-type]
    families = {f.name: f for f in down.collect()}
    assert families["digipersona_database_up"].samples[0].value == 0
    assert list(families) == ["digipersona_database_up"]
