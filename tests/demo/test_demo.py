"""``digipersona demo``: a filled, deterministic, clearly-demo workspace that never goes online."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from digipersona import db
from digipersona.config import Settings
from digipersona.demo.content import PERSONAS, SHARED_POST, SHARED_POST_X
from digipersona.demo.seed import DEMO_EMAIL, seed
from digipersona.exceptions import Conflict
from digipersona.models import (
    AutopilotRun,
    Connection,
    GenerationRule,
    Interaction,
    MetricSnapshot,
    Persona,
    Post,
    Publication,
    Variant,
    Workspace,
)
from tests.conftest import PASSWORD, Actor
from tests.web.test_shell import web_login

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def _count(session: Session, model: Any, workspace_id: uuid.UUID, *where: Any) -> int:
    stmt = select(func.count()).select_from(model).where(model.workspace_id == workspace_id)
    return int(session.scalar(stmt.where(*where)) or 0)


def test_demo_fills_every_page(
    client: Any, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    report = seed(session_factory, settings, password=PASSWORD)
    assert report.created and report.workspace_name == "Demo" and report.email == DEMO_EMAIL
    ws = report.workspace_id
    with session_factory() as s:
        personas = list(s.scalars(select(Persona).where(Persona.workspace_id == ws)))
        assert len(personas) == 3
        assert len({p.timezone for p in personas}) == 3
        assert len({p.colour for p in personas}) == 3
        assert len({tuple(p.slots) for p in personas}) == 3
        assert len({p.voice for p in personas}) == 3
        published = _count(s, Publication, ws, Publication.state == "published")
        scheduled = _count(s, Publication, ws, Publication.state == "scheduled")
        assert published >= 60 and scheduled >= 20
        # A month: four weeks back, two ahead.
        first, last = s.execute(
            select(func.min(Publication.scheduled_at), func.max(Publication.scheduled_at)).where(
                Publication.workspace_id == ws
            )
        ).one()
        assert last - first >= timedelta(days=30)
        # Metric history: several readings per publication, growing.
        assert _count(s, MetricSnapshot, ws) >= published * 3
        assert _count(s, Post, ws, Post.status == "in_review") >= 7
        assert _count(s, Interaction, ws) == sum(len(p.comments) for p in PERSONAS)
        assert _count(s, Interaction, ws, Interaction.is_lead.is_(True)) >= 3
        assert _count(s, Interaction, ws, Interaction.reply_post_id.is_not(None)) >= 4
        assert _count(s, GenerationRule, ws) == 3 and _count(s, AutopilotRun, ws) == 12
        connections = list(s.scalars(select(Connection).where(Connection.workspace_id == ws)))
        assert connections and all(c.extra.get("demo") is True for c in connections)
        assert all(c.profile_url is None for c in connections)
        assert {c.platform for c in connections} == {"linkedin", "x", "bluesky", "webhook"}
        # The four-network post waiting for approval: one text on three, another on X.
        four = s.scalars(
            select(Post).where(Post.workspace_id == ws, Post.body == SHARED_POST)
        ).all()
        assert len(four) == 1 and four[0].status == "in_review" and len(four[0].platforms) == 4
        variants = {
            v.platform: v.parts
            for v in s.scalars(select(Variant).where(Variant.post_id == four[0].id))
        }
        assert variants["x"] == [SHARED_POST_X]
        assert variants["linkedin"] == variants["webhook"] == variants["bluesky"] != variants["x"]

    assert web_login(client, DEMO_EMAIL).status_code == 303
    pages = {
        "/dashboard": ["Maya Okafor", "Tomás Rivera", "Priya Nair"],
        "/calendar": ["Maya Okafor"],
        "/analytics": ["Priya Nair"],
        "/interactions": ["Dana Brooks", "demo for our managers"],
        "/approvals": ["reminder texts", "Hiring our second person"],
    }
    for url, expected in pages.items():
        page = client.get(url)
        assert page.status_code == 200, url
        for text in expected:
            assert text.lower() in page.text.lower(), (url, text)


def test_same_seed_same_workspace(settings: Settings, session_factory: Any, owner: Actor) -> None:
    first = seed(session_factory, settings, password=PASSWORD, now=NOW)
    second = seed(session_factory, settings, workspace_id=owner.workspace_id, now=NOW)
    assert second.created and second.workspace_id == owner.workspace_id

    def digest(workspace_id: uuid.UUID) -> list[tuple[Any, ...]]:
        with session_factory() as s:
            rows = s.execute(
                select(
                    Persona.name,
                    Post.body,
                    Publication.platform,
                    Publication.scheduled_at,
                    MetricSnapshot.taken_at,
                    MetricSnapshot.likes,
                    MetricSnapshot.impressions,
                )
                .join(Post, Post.persona_id == Persona.id)
                .join(Publication, Publication.post_id == Post.id)
                .outerjoin(MetricSnapshot, MetricSnapshot.publication_id == Publication.id)
                .where(Persona.workspace_id == workspace_id)
            ).all()
        return sorted(tuple(r) for r in rows)

    assert digest(first.workspace_id) == digest(second.workspace_id)
    assert len(digest(first.workspace_id)) > 100


def test_second_run_changes_nothing(settings: Settings, session_factory: Any) -> None:
    seed(session_factory, settings, password=PASSWORD, now=NOW)
    with session_factory() as s:
        before = {
            m.__name__: s.scalar(select(func.count()).select_from(m))
            for m in (Post, Workspace, Publication)
        }
    again = seed(session_factory, settings, password=PASSWORD, now=NOW + timedelta(hours=1))
    assert not again.created and again.workspace_name == "Demo"
    with session_factory() as s:
        after = {
            m.__name__: s.scalar(select(func.count()).select_from(m))
            for m in (Post, Workspace, Publication)
        }
    assert after == before


def test_refuses_a_workspace_with_real_data(
    settings: Settings, session_factory: Any, owner: Actor
) -> None:
    assert owner.post("/api/v1/personas", json={"name": "Real"}).status_code == 201
    with pytest.raises(Conflict, match="holds data of its own"):
        seed(session_factory, settings, workspace_id=owner.workspace_id, now=NOW)
    with session_factory() as s:
        assert _count(s, Persona, owner.workspace_id) == 1
        assert _count(s, Post, owner.workspace_id) == 0


def test_refuses_a_workspace_named_demo_with_real_data(
    client: Any, settings: Settings, session_factory: Any
) -> None:
    from tests.conftest import register_actor

    real = register_actor(client, "real", "Demo")
    assert real.post("/api/v1/personas", json={"name": "Mine"}).status_code == 201
    with pytest.raises(Conflict, match="'Demo' holds data of its own"):
        seed(session_factory, settings, now=NOW)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Persona)) == 1


# -- never online ---------------------------------------------------------------------------------
@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every HTTP request any httpx client tries, recorded and refused."""
    tried: list[str] = []

    def refuse(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        tried.append(str(request.url))
        raise AssertionError(f"the demo tried to reach {request.url}")

    monkeypatch.setattr(httpx.Client, "send", refuse)
    return tried


def test_no_provider_talks_for_a_demo_connection(no_network: list[str], tmp_path: Path) -> None:
    from digipersona.platforms import errors
    from digipersona.platforms.base import (
        Credentials,
        Provider,
        PublishRequest,
        ReadBackUnsupported,
    )
    from digipersona.platforms.factory import build_provider
    from digipersona.platforms.registry import platform_ids
    from tests.conftest import make_settings

    settings = make_settings(
        tmp_path,
        "sqlite://",
        linkedin_client_id="id",
        linkedin_client_secret="secret",
        x_client_id="id",
    )
    demo = Credentials(
        access_token="demo-token",
        refresh_token="demo-refresh",
        account_id="demo:1",
        extra={
            "demo": True,
            "url": "https://newsletter.example.com/hooks/demo",
            "did": "did:plc:x",
        },
    )
    request = PublishRequest(parts=["hello"], idempotency_key="k", created_at=NOW)
    ids = [p for p in platform_ids() if p in {"linkedin", "x", "bluesky", "webhook"}]
    assert sorted(ids) == ["bluesky", "linkedin", "webhook", "x"]
    with httpx.Client() as http:
        for platform in ids:
            provider = build_provider(platform, settings, http)
            calls = {
                "publish": lambda p=provider: p.publish(demo, request),
                "lookup": lambda p=provider: p.lookup(demo, request),
                "refresh": lambda p=provider: p.refresh(demo),
                "profile": lambda p=provider: p.profile(demo),
                "delete": lambda p=provider: p.delete(demo, "x1"),
                "fetch_interactions": lambda p=provider: p.fetch_interactions(demo, cursor=None),
                "fetch_metrics": lambda p=provider: p.fetch_metrics(demo, ["x1"]),
                "revoke": lambda p=provider: p.revoke(demo),
            }
            for name, call in calls.items():
                if getattr(type(provider), name) is getattr(Provider, name):
                    # Not implemented by this network: the base answers without any request.
                    with contextlib.suppress(ReadBackUnsupported):
                        call()
                else:
                    with pytest.raises(errors.DemoConnection, match="demo"):
                        call()
                assert no_network == [], (platform, name)


def test_the_engine_never_sends_a_demo_post(
    settings: Settings, session_factory: Any, no_network: list[str]
) -> None:
    from digipersona.analytics import repository as analytics
    from digipersona.interactions.repository import PollRepository
    from digipersona.worker.runtime import build_runtime

    report = seed(session_factory, settings, password=PASSWORD)
    with db.session_scope(session_factory) as s:
        due = s.scalars(
            select(Publication).where(
                Publication.workspace_id == report.workspace_id, Publication.state == "scheduled"
            )
        ).all()
        for publication in due:  # every scheduled post of the demo is due now
            publication.scheduled_at = publication.next_attempt_at = datetime.now(UTC) - timedelta(
                minutes=1
            )
        ids = [p.id for p in due]
    runtime = build_runtime(settings, factory=session_factory)
    try:
        from digipersona.publishing.engine import claim_due, execute

        claimed = claim_due(runtime.engine, "demo-test", 500)
        assert sorted(claimed) == sorted(ids)
        for pid in claimed:
            execute(runtime.engine, pid, "demo-test")
        # Read-back: polling finds nothing to poll, the metrics sync nothing to read.
        later = datetime.now(UTC) + timedelta(days=30)
        with db.session_scope(session_factory) as s:
            PollRepository(s).ensure_rows(later)
            assert PollRepository(s).due(later, 100) == []
            analytics.ensure_schedules(s, later)
            assert analytics.claim_due(s, later, later + timedelta(minutes=5), 100) == []
    finally:
        runtime.close()
    assert no_network == []
    with session_factory() as s:
        states = s.execute(
            select(Publication.state, Publication.error_class, Publication.last_error).where(
                Publication.id.in_(ids)
            )
        ).all()
    assert {state for state, _, _ in states} == {"failed"}
    assert {cls for _, cls, _ in states} == {"DemoConnection"}
    assert all("demo" in (error or "") for _, _, error in states)


def test_metric_fields_follow_the_providers() -> None:
    from digipersona.demo.seed import METRICS_FIELDS
    from digipersona.platforms.registry import get_provider_class

    for platform in ("linkedin", "x", "bluesky", "webhook"):
        cls = get_provider_class(platform)
        expected = set(cls.metrics_fields) if cls.supports_metrics else set()
        assert set(METRICS_FIELDS.get(platform, ())) == expected, platform
