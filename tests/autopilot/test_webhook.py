"""The inbound webhook: a per-trigger secret token, drafts from title/text/url, nothing on error."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from digipersona.models import AutopilotRun, Trigger
from tests.autopilot.conftest import Ctx, make_persona

PAYLOAD = {
    "title": "v2.4 released",
    "text": "Builds are 30% faster thanks to remote caching.",
    "url": "https://example.com/releases/2.4",
}


@pytest.fixture
def hook(ctx: Ctx) -> dict[str, Any]:
    r = ctx.owner.post(
        f"/api/v1/personas/{ctx.persona_id}/autopilot/triggers",
        json={"kind": "webhook", "name": "Releases", "platforms": ["linkedin", "x"]},
    )
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


def _post(ctx: Ctx, path: str, token: str | None, body: Any = None, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    headers.update(kwargs.pop("headers", {}))
    return ctx.owner.client.post(path, json=PAYLOAD if body is None else body, headers=headers)


def _runs(ctx: Ctx) -> int:
    with ctx.factory() as s:
        return int(s.scalar(select(func.count()).select_from(AutopilotRun)) or 0)


def test_a_valid_call_creates_a_draft_in_review(ctx: Ctx, hook: dict[str, Any]) -> None:
    r = _post(ctx, hook["webhook_path"], hook["token"])
    assert r.status_code == 202, r.text
    run = r.json()
    assert run["status"] == "generated" and run["source"] == "webhook"
    [post] = ctx.posts()
    assert str(post.id) == run["post_ids"][0]
    assert post.status == "in_review"
    assert post.platforms == ["linkedin", "x"]
    assert post.link_url == PAYLOAD["url"] and PAYLOAD["url"] in post.body
    # The X-Trigger-Token header works too.
    r = _post(
        ctx,
        hook["webhook_path"],
        None,
        body={**PAYLOAD, "url": "https://example.com/releases/2.5"},
        headers={"X-Trigger-Token": hook["token"]},
    )
    assert r.status_code == 202
    assert ctx.count_posts() == 2


@pytest.mark.parametrize(
    ("token", "status"),
    [
        (None, 401),
        ("", 401),
        ("dp_hook_wrong", 401),
        ("owner-jwt", 401),  # a user's own login is no trigger token
    ],
)
def test_wrong_or_missing_token_is_401_and_creates_nothing(
    ctx: Ctx, hook: dict[str, Any], token: str | None, status: int
) -> None:
    if token == "owner-jwt":
        token = ctx.owner.token
    r = _post(ctx, hook["webhook_path"], token)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "token" in r.json()["detail"]
    # Even with a body that would not validate, the token is checked first.
    assert _post(ctx, hook["webhook_path"], token, body={"nope": 1}).status_code == 401
    assert ctx.count_posts() == 0 and _runs(ctx) == 0


def test_unknown_triggers_are_404(ctx: Ctx, hook: dict[str, Any]) -> None:
    token = hook["token"]
    unknown = f"/api/v1/personas/{ctx.persona_id}/triggers/{uuid.uuid4()}"
    assert _post(ctx, unknown, token).status_code == 404
    # The right trigger under another persona's id.
    other = make_persona(ctx.owner, name="Other")
    assert _post(ctx, f"/api/v1/personas/{other}/triggers/{hook['id']}", token).status_code == 404
    # A feed trigger is not a webhook.
    feed = ctx.owner.post(
        f"/api/v1/personas/{ctx.persona_id}/autopilot/triggers",
        json={"kind": "feed", "feed_url": "https://blog.example/rss"},
    ).json()
    assert (
        _post(ctx, f"/api/v1/personas/{ctx.persona_id}/triggers/{feed['id']}", token).status_code
        == 404
    )
    assert ctx.count_posts() == 0 and _runs(ctx) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title or a text"),
        ({"title": "  ", "text": ""}, "title or a text"),
        ({"title": "x", "url": "not a url"}, "url"),
        ({"title": "x", "extra": 1}, "extra"),
        ({"title": "x" * 501}, "title"),
        ([1, 2], "body"),
    ],
)
def test_bad_bodies_are_422(ctx: Ctx, hook: dict[str, Any], body: Any, field: str) -> None:
    r = _post(ctx, hook["webhook_path"], hook["token"], body=body)
    assert r.status_code == 422, r.text
    assert field in r.text
    assert ctx.count_posts() == 0 and _runs(ctx) == 0


def test_disabled_trigger_refuses_and_token_is_stored_hashed(
    ctx: Ctx, hook: dict[str, Any]
) -> None:
    with ctx.factory() as s:
        trigger = s.get(Trigger, uuid.UUID(hook["id"]))
        assert trigger is not None
        assert trigger.token_hash and hook["token"] not in trigger.token_hash
        assert len(trigger.token_hash) == 64
    ctx.owner.patch(
        f"/api/v1/personas/{ctx.persona_id}/autopilot/triggers/{hook['id']}",
        json={"enabled": False},
    )
    r = _post(ctx, hook["webhook_path"], hook["token"])
    assert r.status_code == 409 and "disabled" in r.json()["detail"]
    assert ctx.count_posts() == 0


def test_provider_failure_is_recorded_and_creates_nothing(
    ctx: Ctx, hook: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from digipersona.autopilot import service
    from tests.autopilot.conftest import FailingProvider

    real = service.fire_webhook

    def failing(*args: Any, **kwargs: Any) -> Any:
        kwargs["provider"] = FailingProvider(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "fire_webhook", failing)
    r = _post(ctx, hook["webhook_path"], hook["token"])
    assert r.status_code == 202
    assert r.json()["status"] == "failed" and "503" in r.json()["error"]
    assert ctx.count_posts() == 0
    assert _runs(ctx) == 1


def test_rotating_the_token_retires_the_old_one(ctx: Ctx, hook: dict[str, Any]) -> None:
    base = f"/api/v1/personas/{ctx.persona_id}/autopilot/triggers/{hook['id']}"
    r = ctx.owner.post(f"{base}/token")
    assert r.status_code == 200, r.text
    new = r.json()["token"]
    assert new and new != hook["token"] and r.json()["token_hint"] == new[-4:]
    assert _post(ctx, hook["webhook_path"], hook["token"]).status_code == 401
    assert _post(ctx, hook["webhook_path"], new).status_code == 202
    feed = ctx.owner.post(
        f"/api/v1/personas/{ctx.persona_id}/autopilot/triggers",
        json={"kind": "feed", "feed_url": "https://blog.example/rss"},
    ).json()
    r = ctx.owner.post(f"/api/v1/personas/{ctx.persona_id}/autopilot/triggers/{feed['id']}/token")
    assert r.status_code == 409 and "Only webhook triggers" in r.json()["detail"]


def test_each_event_drafts_once(ctx: Ctx, hook: dict[str, Any]) -> None:
    path, token = hook["webhook_path"], hook["token"]
    assert _post(ctx, path, token).json()["status"] == "generated"
    # The sender retries the same release (same URL): nothing new.
    again = _post(ctx, path, token).json()
    assert again["status"] == "nothing" and "already drafted" in again["reason"]
    assert ctx.count_posts() == 1
    # Events without a URL are told apart by their Idempotency-Key.
    body = {"title": "Team offsite", "text": "What we learned."}
    keyed = {"Idempotency-Key": "evt-1"}
    assert _post(ctx, path, token, body=body, headers=keyed).json()["status"] == "generated"
    assert _post(ctx, path, token, body=body, headers=keyed).json()["status"] == "nothing"
    assert (
        _post(ctx, path, token, body=body, headers={"Idempotency-Key": "evt-2"}).json()["status"]
        == "generated"
    )
    assert ctx.count_posts() == 3


def test_a_failed_event_can_be_sent_again(
    ctx: Ctx, hook: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from digipersona.autopilot import service
    from tests.autopilot.conftest import FailingProvider

    real = service.fire_webhook
    providers = [FailingProvider(1), FailingProvider(None)]

    def flaky(*args: Any, **kwargs: Any) -> Any:
        kwargs["provider"] = providers.pop(0)
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "fire_webhook", flaky)
    assert _post(ctx, hook["webhook_path"], hook["token"]).json()["status"] == "failed"
    assert _post(ctx, hook["webhook_path"], hook["token"]).json()["status"] == "generated"
    assert ctx.count_posts() == 1


def test_a_flood_of_events_is_capped_per_hour(ctx: Ctx, hook: dict[str, Any]) -> None:
    from digipersona.autopilot import service

    trigger_id = uuid.UUID(hook["id"])
    settings = ctx.settings.model_copy(update={"autopilot_webhook_events_per_hour": 2})
    for i in range(2):
        service.fire_webhook(ctx.factory, settings, trigger_id, title=f"t{i}", text="", url=None)
    from digipersona.exceptions import TooManyRequests

    with pytest.raises(TooManyRequests) as caught:
        service.fire_webhook(ctx.factory, settings, trigger_id, title="t3", text="", url=None)
    assert "in the last hour" in caught.value.message
    assert ctx.count_posts() == 2
