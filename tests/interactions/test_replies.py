"""Reply drafts: approved and published through the engine as real replies at the fakes."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from pydantic import SecretStr

from digipersona.interactions import polling
from digipersona.kit.time import utcnow
from digipersona.models import Interaction, Persona
from digipersona.publishing.engine import claim_due, execute
from digipersona.worker.runtime import build_runtime
from tests.conftest import database_is_free, invite_actor
from tests.fakes.llm_openai import FakeOpenAI
from tests.fakes.server import serve
from tests.interactions.conftest import LI_READ, Env, running_env


def _only_interaction(env: Env) -> dict[str, Any]:
    [item] = env.owner.get("/api/v1/interactions").json()["items"]
    return dict(item)


def _approve_and_schedule(env: Env, post_id: str) -> None:
    owner = env.owner
    assert owner.post(f"/api/v1/content/{post_id}/submit").status_code == 200
    assert owner.post(f"/api/v1/content/{post_id}/approve").status_code == 200
    at = (utcnow() + timedelta(minutes=1)).isoformat()
    r = owner.post(f"/api/v1/content/{post_id}/schedule", json={"at": at})
    assert r.status_code == 200, r.text


def _run_engine(env: Env) -> dict[uuid.UUID, str]:
    runtime = build_runtime(env.settings, factory=env.factory)
    runtime.engine.clock = lambda: utcnow() + timedelta(minutes=2)
    try:
        return {
            pid: execute(runtime.engine, pid, "t") for pid in claim_due(runtime.engine, "t", 10)
        }
    finally:
        runtime.http.close()


def test_x_reply_is_published_in_reply_to_the_mention(env: Env) -> None:
    env.connect_x()
    bob = env.x.add_user("bob", "Bob Buyer")
    mention = env.x.add_mention(bob, "@persona_one can we talk about a platform workshop?")
    env.poll()
    item = _only_interaction(env)
    r = env.owner.post(
        f"/api/v1/interactions/{item['id']}/reply-drafts",
        json={"text": "Happy to, Bob: send me a DM with dates."},
    )
    assert r.status_code == 201, r.text
    draft = r.json()
    assert draft["post_status"] == "draft" and draft["auto_sent"] is False
    assert draft["source"] == "text" and draft["publication_ids"] == []
    post = env.owner.get(f"/api/v1/content/{draft['post_id']}").json()
    assert post["platforms"] == ["x"] and "reply" in post["tags"]
    # Nothing is sent before approval.
    assert _run_engine(env) == {}
    assert env.x.live_posts(env.x.me) == []
    assert (
        env.owner.get(f"/api/v1/interactions/{item['id']}").json()["reply_post_id"]
        == draft["post_id"]
    )

    _approve_and_schedule(env, draft["post_id"])
    states = _run_engine(env)
    assert list(states.values()) == ["published"]
    [reply] = env.x.live_posts(env.x.me)
    assert reply["replied_to"] == mention
    assert reply["text"] == "Happy to, Bob: send me a DM with dates."
    create = [r for r in env.x.requests if r.method == "POST" and r.raw_path == "/2/tweets"][-1]
    assert json.loads(create.body)["reply"] == {"in_reply_to_tweet_id": mention}

    assert polling.mark_replied(env.factory) == 1
    assert env.owner.get(f"/api/v1/interactions/{item['id']}").json()["status"] == "replied"
    assert polling.mark_replied(env.factory) == 0


def test_linkedin_reply_is_a_comment_on_the_post_under_the_comment(env: Env) -> None:
    conn = env.connect_linkedin()
    token = env.linkedin.issue_token(scopes=LI_READ)
    import httpx

    r = httpx.post(
        f"{env.linkedin.url}/rest/posts",
        headers={
            "Authorization": f"Bearer {token}",
            "LinkedIn-Version": "202609",
            "X-Restli-Protocol-Version": "2.0.0",
        },
        json={
            "author": env.linkedin.consenting.urn,
            "commentary": "How we run platform teams",
            "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED"},
            "lifecycleState": "PUBLISHED",
        },
    )
    urn = r.headers["x-restli-id"]
    env.published(conn, "linkedin", urn)
    bob = env.linkedin.add_member("bob1", "Bob", "bob@example.com")
    comment = env.linkedin.add_comment(urn, bob, "Do you offer workshops for our team?")
    env.poll()
    item = _only_interaction(env)
    assert item["is_lead"]
    r = env.owner.post(
        f"/api/v1/interactions/{item['id']}/reply-drafts", json={"text": "Yes (remote too)!"}
    )
    assert r.status_code == 201, r.text
    _approve_and_schedule(env, r.json()["post_id"])
    assert list(_run_engine(env).values()) == ["published"]
    ours = [c for c in env.linkedin.comments_on(urn) if c["actor"] == env.linkedin.consenting.urn]
    assert len(ours) == 1
    assert ours[0]["object"] == urn and ours[0]["parentComment"] == comment
    assert ours[0]["message"]["text"] == "Yes (remote too)!"  # plain text, not escaped
    assert env.linkedin.live_posts() and len(env.linkedin.live_posts()) == 1  # no new post
    polling.mark_replied(env.factory)
    assert env.owner.get(f"/api/v1/interactions/{item['id']}").json()["status"] == "replied"
    # Our own reply is not read back as an interaction on the next poll.
    env.clock.advance(seconds=env.settings.interactions_poll_seconds + 1)
    assert env.poll().stored == 0


def _templates(env: Env, templates: dict[str, Any]) -> None:
    r = env.owner.patch(f"/api/v1/personas/{env.persona_id}", json={"reply_templates": templates})
    assert r.status_code == 200, r.text
    assert (
        r.json()["reply_templates"]["templates"][0]["class"] == templates["templates"][0]["class"]
    )


def test_reply_templates_are_validated_on_the_persona(env: Env) -> None:
    url = f"/api/v1/personas/{env.persona_id}"
    for bad in (
        {"templates": [{"id": "a", "class": "c", "text": ""}]},
        {
            "templates": [
                {"id": "a", "class": "c", "text": "x"},
                {"id": "a", "class": "c", "text": "y"},
            ]
        },
        {"templates": [], "auto_send_classes": ["c"]},
        {"templates": [{"id": "a b", "class": "c", "text": "x"}]},
        {"templates": [{"id": "a", "text": "x"}]},
    ):
        r = env.owner.patch(url, json={"reply_templates": bad})
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["detail"]
    with env.factory() as s:
        persona = s.get(Persona, uuid.UUID(env.persona_id))
        assert persona is not None
        assert persona.reply_templates == {"templates": [], "auto_send_classes": []}


def test_templates_fill_and_auto_send_only_for_opted_in_classes(env: Env) -> None:
    env.connect_x()
    bob = env.x.add_user("bob", "Bob Buyer")
    carol = env.x.add_user("carol", "Carol Jones")
    env.x.add_mention(bob, "@persona_one great thread, thanks!")
    env.poll()
    item = _only_interaction(env)
    templates = [
        {"id": "thanks", "class": "gratitude", "text": "Thanks {author}, glad it helped!"},
        {"id": "call", "class": "sales", "text": "{handle} happy to talk: DM me."},
    ]
    _templates(env, {"templates": templates, "auto_send_classes": []})
    url = f"/api/v1/interactions/{item['id']}/reply-drafts"
    r = env.owner.post(url, json={"template_id": "thanks"})
    assert r.status_code == 201, r.text
    draft = r.json()
    assert draft["text"] == "Thanks Bob Buyer, glad it helped!"
    assert draft["auto_sent"] is False and draft["template_class"] == "gratitude"
    assert draft["post_status"] == "draft"
    assert _run_engine(env) == {}

    # The persona opts in for gratitude replies only.
    _templates(env, {"templates": templates, "auto_send_classes": ["gratitude"]})
    r = env.owner.post(url, json={"template_id": "call"})
    assert r.json()["auto_sent"] is False and r.json()["text"] == "@bob happy to talk: DM me."
    assert r.json()["post_status"] == "draft"

    mention = env.x.add_mention(carol, "@persona_one this saved my week, thank you")
    env.clock.advance(seconds=env.settings.interactions_poll_seconds + 1)
    env.poll()
    carol_item = next(
        i
        for i in env.owner.get("/api/v1/interactions").json()["items"]
        if i["external_id"] == mention
    )
    carol_url = f"/api/v1/interactions/{carol_item['id']}/reply-drafts"
    # An approver may draft but not publish: no auto-send on their behalf.
    approver = invite_actor(env.client, env.owner, "approver", "approver")
    r = approver.post(carol_url, json={"template_id": "thanks"})
    assert r.status_code == 201 and r.json()["auto_sent"] is False
    assert env.owner.delete(f"/api/v1/content/{r.json()['post_id']}").status_code == 204
    r = env.owner.post(carol_url, json={"template_id": "thanks"})
    assert r.status_code == 201, r.text
    sent = r.json()
    assert sent["auto_sent"] is True and len(sent["publication_ids"]) == 1
    assert env.owner.get(f"/api/v1/content/{sent['post_id']}").json()["status"] == "scheduled"
    assert list(_run_engine(env).values()) == ["published"]
    [reply] = env.x.live_posts(env.x.me)
    assert reply["replied_to"] == mention and reply["text"] == "Thanks Carol Jones, glad it helped!"


def test_ai_draft_in_the_persona_voice(env: Env) -> None:
    env.connect_x()
    bob = env.x.add_user("bob", "Bob")
    env.x.add_mention(bob, "@persona_one how do you structure platform teams?")
    env.poll()
    item = _only_interaction(env)
    r = env.owner.post(f"/api/v1/interactions/{item['id']}/reply-drafts", json={"ai": True})
    assert r.status_code == 201, r.text
    assert r.json()["source"] == "ai" and r.json()["text"].strip()
    assert r.json()["post_status"] == "draft"


def test_an_ai_draft_holds_no_transaction_while_the_model_answers(
    database_url: str, tmp_path: Any
) -> None:
    """A remote model takes seconds: SQLite's write lock must not wait on it."""
    fake = FakeOpenAI()
    llm = {
        "llm_provider": "openai",
        "llm_api_key": SecretStr("test-key"),
        "llm_model": "test-model",
        "llm_timeout_seconds": 10.0,
    }
    with (
        serve(fake) as server,
        running_env(database_url, tmp_path, llm_base_url=server.url + "/v1", **llm) as env,
    ):
        env.connect_x()
        bob = env.x.add_user("bob", "Bob")
        env.x.add_mention(bob, "@persona_one how do you structure platform teams?")
        env.poll()
        item = _only_interaction(env)
        free: list[bool] = []
        fake.while_answering = lambda: free.append(database_is_free(database_url))
        r = env.owner.post(f"/api/v1/interactions/{item['id']}/reply-drafts", json={"ai": True})
        assert r.status_code == 201, r.text
        assert r.json()["source"] == "ai" and r.json()["text"].strip()
        assert free == [True]


def test_bad_reply_requests(env: Env) -> None:
    env.connect_x()
    bob = env.x.add_user("bob", "Bob")
    env.x.add_mention(bob, "@persona_one hi")
    env.poll()
    item = _only_interaction(env)
    url = f"/api/v1/interactions/{item['id']}/reply-drafts"
    for body in ({}, {"text": "a", "ai": True}, {"template_id": "x", "text": "b"}, {"text": ""}):
        r = env.owner.post(url, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["detail"]
    r = env.owner.post(url, json={"template_id": "nope"})
    assert r.status_code == 422 and "nope" in r.json()["detail"]
    assert (
        env.owner.post(
            f"/api/v1/interactions/{uuid.uuid4()}/reply-drafts", json={"text": "x"}
        ).status_code
        == 404
    )
    with env.factory.begin() as s:
        row = s.get(Interaction, uuid.UUID(item["id"]))
        assert row is not None
        row.reply_target = None
    r = env.owner.post(url, json={"text": "hello"})
    assert r.status_code == 409 and "reply on the platform" in r.json()["detail"]
    # Nothing half-written: no reply post was created by the refused requests.
    assert env.owner.get(f"/api/v1/interactions/{item['id']}").json()["reply_post_id"] is None
