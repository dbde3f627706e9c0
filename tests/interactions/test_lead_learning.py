"""Learning from the inbox: labels, `leads retrain`, the kept model, workspace scoping, the LLM
prompt with the persona's offering and few-shot labels."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from digipersona.db import write_scope
from digipersona.interactions import lead_learning
from digipersona.kit.time import utcnow
from digipersona.models import Interaction, WorkspaceLeadModel
from tests.conftest import register_actor
from tests.fakes.llm_openai import FakeOpenAI
from tests.fakes.server import serve
from tests.interactions.conftest import Env, running_env
from tests.web.test_shell import web_login

# A language the shipped corpus has no word of: the shipped model cannot know these are leads.
LEADS = [
    "Sziasztok! Érdekelne minket egy közös projekt, mikor tudnánk egyeztetni?",
    "Kérnék árajánlatot egy kétnapos képzésre a csapatunknak.",
    "Vállalnátok nálunk egy tanácsadói megbízást tavasszal?",
    "Szeretnénk megbízni titeket a folyamataink átvilágításával, hogyan tovább?",
    "Tudnátok küldeni egy ajánlatot a bevezetésre? Sürgős lenne.",
    "Mennyiért vállalnátok egy workshopot a vezetőségnek?",
]
NOT_LEADS = [
    "Nagyon jó poszt, köszönöm a megosztást!",
    "Nem értek egyet, ez nálunk nem működött.",
    "Kövessetek a profilomon napi tippekért!",
    "Szép napot mindenkinek!",
]
PROBE = "Szeretnénk árajánlatot kérni egy tanácsadói projektre."


def _store(env: Env, texts: list[str]) -> list[uuid.UUID]:
    connection_id = env.connect_x()
    ids = []
    with env.factory.begin() as s:
        for n, text in enumerate(texts):
            row = Interaction(
                workspace_id=env.owner.workspace_id,
                persona_id=uuid.UUID(env.persona_id),
                connection_id=connection_id,
                platform="x",
                external_id=f"m{n}",
                kind="mention",
                text=text,
                received_at=utcnow(),
            )
            s.add(row)
            s.flush()
            ids.append(row.id)
    return ids


def _score(actor: Any, text: str) -> dict[str, Any]:
    response = actor.post("/api/v1/interactions/score", json={"text": text})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_labels_and_retrain_teach_the_workspace_a_phrasing_the_shipped_model_misses(
    database_url: str, tmp_path: Any
) -> None:
    with running_env(database_url, tmp_path) as env:
        other = register_actor(env.client, "other", "Other Co")
        assert not _score(env.owner, PROBE)["is_lead"]
        ids = _store(env, LEADS + NOT_LEADS)
        for row_id, label in zip(ids, [True] * len(LEADS) + [False] * len(NOT_LEADS), strict=True):
            response = env.owner.post(
                f"/api/v1/interactions/{row_id}/lead-label", json={"label": label}
            )
            assert response.status_code == 200, response.text
            assert response.json()["lead_label"] is label
        # Another workspace cannot label (or see) these interactions.
        assert (
            other.post(
                f"/api/v1/interactions/{ids[0]}/lead-label", json={"label": False}
            ).status_code
            == 404
        )
        with write_scope(env.factory) as session:
            outcome = lead_learning.retrain(session, env.owner.workspace_id, utcnow())
        assert outcome["replaced"] is True and outcome["labels"] == len(ids), outcome
        after = _score(env.owner, PROBE)
        assert after["is_lead"], after
        assert any(
            r.startswith("model ") and "similar to past enquiries" in r for r in after["reasons"]
        )
        # Workspace-scoped: the other workspace still scores with the shipped model.
        assert not _score(other, PROBE)["is_lead"]
        with env.factory() as s:
            row = s.get(WorkspaceLeadModel, env.owner.workspace_id)
            assert row is not None and row.label_count == len(ids)
            assert row.metrics["held_out"]["n"] > 0
            quality = lead_learning.quality(s, env.owner.workspace_id)
        assert quality["source"] == "this workspace's labels"
        assert 0 <= quality["precision"] <= 1 and 0 <= quality["recall"] <= 1
        web_login(env.client, env.owner.email)
        page = env.client.get("/analytics")
        assert page.status_code == 200 and "Lead detection" in page.text
        assert "this workspace&#39;s labels" in page.text or "this workspace's labels" in page.text


def test_a_retrain_that_scores_worse_keeps_the_previous_model(
    database_url: str, tmp_path: Any
) -> None:
    with running_env(database_url, tmp_path) as env:
        # Labels that contradict the corpus (obvious leads marked "not a lead" and praise marked
        # "lead"): the new recipe does worse on the held-out split, so nothing is replaced.
        wrong = [
            ("Can we book a call? We need help with our pricing and have budget.", False),
            ("How much do you charge for a workshop for our team of 20?", False),
            ("Are you taking new clients? We'd like a proposal.", False),
            ("Please send us a quote for a two-week review.", False),
            ("Great post, thanks for sharing!", True),
            ("Follow me for daily motivation quotes!", True),
            ("Congrats on the new role!", True),
            ("Happy Friday everyone.", True),
            ("Could you run this training for our engineers in May?", False),
            ("Do you offer a demo for our finance team?", False),
        ] * 3
        ids = _store(env, [f"{text} ({n})" for n, (text, _) in enumerate(wrong)])
        with write_scope(env.factory) as session:
            for row_id, (_, label) in zip(ids, wrong, strict=True):
                session.get(Interaction, row_id).lead_label = label  # type: ignore[union-attr]
                session.get(Interaction, row_id).lead_labelled_at = utcnow()  # type: ignore[union-attr]
        with write_scope(env.factory) as session:
            outcome = lead_learning.retrain(session, env.owner.workspace_id, utcnow())
        assert outcome["replaced"] is False
        assert outcome["new_f1"] < outcome["previous_f1"]
        with env.factory() as s:
            assert s.get(WorkspaceLeadModel, env.owner.workspace_id) is None
        assert _score(env.owner, "How much do you charge for a workshop for our team of 20?")[
            "is_lead"
        ]


def test_retrain_without_labels_is_a_clear_4xx(database_url: str, tmp_path: Any) -> None:
    from digipersona.exceptions import ValidationFailed

    with running_env(database_url, tmp_path) as env, write_scope(env.factory) as session:
        with pytest.raises(ValidationFailed, match="No labelled interactions") as caught:
            lead_learning.retrain(session, env.owner.workspace_id, utcnow())
        assert caught.value.status_code == 422


def test_label_api_validates_and_clears(database_url: str, tmp_path: Any) -> None:
    with running_env(database_url, tmp_path) as env:
        (row_id,) = _store(env, ["Can we talk?"])
        url = f"/api/v1/interactions/{row_id}/lead-label"
        assert env.owner.post(url, json={"label": "yes"}).status_code == 422
        assert env.owner.post(url, json={}).status_code == 422
        assert (
            env.owner.post(
                f"/api/v1/interactions/{uuid.uuid4()}/lead-label", json={"label": True}
            ).status_code
            == 404
        )
        assert env.owner.post(url, json={"label": True}).json()["lead_label"] is True
        cleared = env.owner.post(url, json={"label": None}).json()
        assert cleared["lead_label"] is None
        with env.factory() as s:
            row = s.scalars(select(Interaction)).one()
            assert row.lead_label is None and row.lead_labelled_at is None


def test_the_ai_classifier_is_told_the_offering_and_shown_the_workspace_labels(
    database_url: str, tmp_path: Any
) -> None:
    fake = FakeOpenAI()
    fake.responder = lambda body: json.dumps({"score": 90, "reasons": ["wants a workshop"]})
    with (
        serve(fake) as server,
        running_env(
            database_url,
            tmp_path,
            llm_provider="openai",
            llm_base_url=server.url + "/v1",
            llm_api_key=SecretStr("test-key"),
            llm_model="test-model",
            llm_timeout_seconds=3.0,
        ) as env,
    ):
        response = env.owner.patch(
            f"/api/v1/personas/{env.persona_id}",
            json={"offering": "workshops", "not_leads": ["guest post"]},
        )
        assert response.status_code == 200, response.text
        assert response.json()["offering"] == "workshops"
        (labelled,) = _store(env, ["Could you run your workshop for our sales team in May?"])
        env.owner.post(f"/api/v1/interactions/{labelled}/lead-label", json={"label": True})
        carol = env.x.add_user("carol", "Carol")
        env.x.add_mention(carol, "@persona_one do you do this for hospitals?")
        env.x.add_mention(
            carol, "@persona_one can I write a guest post for your blog? Can we talk?"
        )
        report = env.poll()
        assert report.stored == 2
        prompt = fake.generation_requests()[0].prompt_text()
        assert "workshops" in prompt and "guest post" in prompt
        assert "LEAD: Could you run your workshop for our sales team in May?" in prompt
        with env.factory() as s:
            rows = {
                r.text: r for r in s.scalars(select(Interaction).where(Interaction.platform == "x"))
            }
        guest = rows["@persona_one can I write a guest post for your blog? Can we talk?"]
        assert not guest.is_lead
        assert "on this persona's not-a-lead list: 'guest post'" in guest.lead_reasons


def test_a_slow_ai_classifier_does_not_hold_up_polling(database_url: str, tmp_path: Any) -> None:
    fake = FakeOpenAI()
    fake.delay_next(30.0, times=5)
    with (
        serve(fake) as server,
        running_env(
            database_url,
            tmp_path,
            llm_provider="openai",
            llm_base_url=server.url + "/v1",
            llm_api_key=SecretStr("test-key"),
            llm_model="test-model",
            llm_timeout_seconds=1.0,
        ) as env,
    ):
        env.connect_x()
        carol = env.x.add_user("carol", "Carol")
        for n in range(3):
            env.x.add_mention(carol, f"@persona_one can we talk about a project ({n})?")
        report = env.poll()
        assert report.stored == 3 and list(report.outcomes.values()) == ["ok"]
        with env.factory() as s:
            rows = list(s.scalars(select(Interaction)))
        # One classification timed out (with the provider's own retries), then the classifier
        # is not asked again in that poll: 3 items would otherwise make 3 times the requests.
        assert 1 <= len(fake.generation_requests()) <= 3
        for row in rows:
            assert row.is_lead
            assert any("AI classifier unavailable" in r for r in row.lead_reasons)
