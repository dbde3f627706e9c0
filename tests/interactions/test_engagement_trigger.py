"""A new lead in the inbox fires the persona's engagement trigger (autopilot), once."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from digipersona import db
from digipersona.autopilot import engagement
from digipersona.models import AutopilotRun, Interaction, Notification, Post
from tests.interactions.conftest import Env


def _engagement_trigger(env: Env, **fields: Any) -> None:
    r = env.owner.post(
        f"/api/v1/personas/{env.persona_id}/autopilot/triggers",
        json={"kind": "engagement", "platforms": ["x"], **fields},
    )
    assert r.status_code == 201, r.text


def _runs(env: Env) -> list[AutopilotRun]:
    with env.factory() as s:
        return list(s.scalars(select(AutopilotRun).where(AutopilotRun.source == "engagement")))


def _posts(env: Env) -> list[Post]:
    with env.factory() as s:
        return list(s.scalars(select(Post).where(Post.persona_id == uuid.UUID(env.persona_id))))


def _lead_and_praise(env: Env) -> tuple[str, str]:
    env.connect_x()
    bob = env.x.add_user("bob", "Bob Buyer")
    bob.description = "CTO at Acme GmbH"
    carol = env.x.add_user("carol", "Carol")
    lead = env.x.add_mention(bob, "@persona_one do you consult? We need help. Can we talk?")
    praise = env.x.add_mention(carol, "@persona_one great post, love this!")
    return lead, praise


def test_a_new_lead_drafts_one_follow_up_for_an_opted_in_persona(env: Env) -> None:
    _engagement_trigger(env)
    lead, _praise = _lead_and_praise(env)

    report = env.poll()
    assert (report.stored, report.leads) == (2, 1)
    [run] = _runs(env)
    assert run.status == "generated" and len(run.post_ids) == 1
    assert "lead score" in run.details["reason"] and "Bob Buyer" in run.details["reason"]
    with env.factory() as s:
        row = s.scalars(select(Interaction).where(Interaction.external_id == lead)).one()
    [post] = _posts(env)
    assert post.status == "in_review" and post.platforms == ["x"]
    assert post.link_url == row.url and row.url
    assert "do you consult" in post.brief

    # The same lead re-delivered (cursor lost) is not new: no second follow-up.
    with env.factory.begin() as s:
        from digipersona.models import InteractionPoll

        s.get(InteractionPoll, row.connection_id).cursor = None  # type: ignore[union-attr]
    env.clock.advance(seconds=env.settings.interactions_poll_seconds + 1)
    assert env.poll().stored == 0
    assert len(_runs(env)) == 1 and len(_posts(env)) == 1


def test_without_an_enabled_trigger_a_lead_drafts_nothing(env: Env) -> None:
    _engagement_trigger(env, enabled=False)
    _lead_and_praise(env)
    assert env.poll().leads == 1
    assert _runs(env) == [] and _posts(env) == []


def test_a_failing_trigger_does_not_break_polling(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    _engagement_trigger(env)
    _lead_and_praise(env)
    calls: list[str] = []

    def broken(factory: Any, **kwargs: Any) -> None:
        calls.append(kwargs["reason"])
        # Half-written work before the failure must be undone, not committed.
        with db.write_scope(factory) as session:
            session.add(
                Notification(
                    workspace_id=env.owner.workspace_id, kind="half.written", title="x", body="x"
                )
            )
            session.flush()
            raise RuntimeError("boom")

    monkeypatch.setattr(engagement, "fire_engagement", broken)
    report = env.poll()
    assert len(calls) == 1
    assert list(report.outcomes.values()) == ["ok"] and report.stored == 2
    with env.factory() as s:
        kinds = list(s.scalars(select(Notification.kind)))
        poll_error = s.scalars(select(Interaction)).all()
    assert "interaction.lead" in kinds and "half.written" not in kinds
    assert len(poll_error) == 2
    assert _posts(env) == []
