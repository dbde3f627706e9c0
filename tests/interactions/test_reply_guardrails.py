"""Reply drafts and the guardrails: templates may repeat, banned words and domains may not."""

from __future__ import annotations

from typing import Any

from tests.interactions.conftest import Env

REPEATED = "Thanks a lot, glad it helped! More on platform teams next week."


def _two_mentions(env: Env) -> list[dict[str, Any]]:
    env.connect_x()
    bob = env.x.add_user("bob", "Bob Buyer")
    carol = env.x.add_user("carol", "Carol Jones")
    env.x.add_mention(bob, "@persona_one great thread, thanks!")
    env.x.add_mention(carol, "@persona_one this saved my week")
    env.poll()
    items = env.owner.get("/api/v1/interactions").json()["items"]
    assert len(items) == 2
    return list(items)


def _persona(env: Env, **fields: Any) -> None:
    r = env.owner.patch(f"/api/v1/personas/{env.persona_id}", json=fields)
    assert r.status_code == 200, r.text


def _reply(env: Env, item: dict[str, Any], **body: Any) -> str:
    r = env.owner.post(f"/api/v1/interactions/{item['id']}/reply-drafts", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["post_id"])


def _submit(env: Env, post_id: str) -> Any:
    return env.owner.post(f"/api/v1/content/{post_id}/submit")


def _post(env: Env, body: str) -> str:
    r = env.owner.post(
        "/api/v1/content",
        json={"persona_id": env.persona_id, "body": body, "platforms": ["x"]},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_the_same_template_reply_goes_to_review_twice(env: Env) -> None:
    bob, carol = _two_mentions(env)
    _persona(env, reply_templates={"templates": [{"id": "t", "class": "c", "text": REPEATED}]})
    first = _reply(env, bob, template_id="t")
    second = _reply(env, carol, template_id="t")
    assert _submit(env, first).status_code == 200
    r = _submit(env, second)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in_review"


def test_posts_are_compared_with_posts_not_with_replies(env: Env) -> None:
    bob, _carol = _two_mentions(env)
    reply = _reply(env, bob, text=REPEATED)
    assert _submit(env, reply).status_code == 200
    # A post saying what a reply said is not a repeat of the persona's posts...
    post = _post(env, REPEATED)
    assert _submit(env, post).status_code == 200
    # ...but a second post saying it again is (the guardrail still guards posts).
    again = _post(env, REPEATED)
    r = _submit(env, again)
    assert r.status_code == 422
    assert any(e["code"] == "near_duplicate" for e in r.json()["errors"]), r.json()


def test_replies_still_meet_banned_phrases_and_blocked_domains(env: Env) -> None:
    bob, carol = _two_mentions(env)
    _persona(env, banned_phrases=["game changer"], blocked_domains=["spam.example"])
    banned = _reply(env, bob, text="Thanks! Honestly a game changer for us.")
    r = _submit(env, banned)
    assert r.status_code == 422 and "game changer" in r.text
    linked = _reply(env, carol, text="Thanks! Details at https://spam.example/offer")
    r = _submit(env, linked)
    assert r.status_code == 422 and "spam.example" in r.text
