"""Persona page Autopilot section: inbound webhooks (token once, rotation), engagement on/off."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from digipersona.kit.time import utcnow
from digipersona.models import Trigger
from tests.autopilot.conftest import Ctx
from tests.conftest import Actor
from tests.web.test_shell import csrf_from, web_login

PAYLOAD = {"title": "v2.4 released", "text": "Builds are faster.", "url": "https://ex.com/2.4"}


def _page(ctx: Ctx) -> str:
    r = ctx.owner.client.get(f"/personas/{ctx.persona_id}")
    assert r.status_code == 200, r.text
    return str(r.text)


def _shown(html: str, field_id: str) -> str:
    match = re.search(rf'id="{field_id}" type="text" readonly value="([^"]+)"', html)
    assert match, f"no {field_id} on the page"
    return match.group(1)


def _triggers(ctx: Ctx, kind: str) -> list[Trigger]:
    with ctx.factory() as s:
        return list(s.scalars(select(Trigger).where(Trigger.kind == kind)))


def test_add_webhook_shows_address_and_token_once_and_rotates(ctx: Ctx) -> None:
    client: Any = ctx.owner.client
    web_login(client, ctx.owner.email)
    page = _page(ctx)
    assert 'for="ap-wh-name"' in page and "Add an inbound webhook" in page
    r = client.post(
        f"/personas/{ctx.persona_id}/autopilot/webhooks",
        data={"csrf_token": csrf_from(page), "name": "Releases", "platforms": ["x", "bluesky"]},
    )
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    assert "shown only this once" in r.text and "Copy token" in r.text
    url = _shown(r.text, "wh-url")
    token = _shown(r.text, "wh-token")
    [trigger] = _triggers(ctx, "webhook")
    assert (
        url
        == f"{ctx.settings.base_url.rstrip('/')}/api/v1/personas/{ctx.persona_id}/triggers/{trigger.id}"
    )
    assert token.startswith("dp_hook_") and trigger.token_hint == token[-4:]
    assert trigger.platforms == ["x", "bluesky"] and trigger.name == "Releases"

    # The token works against the real endpoint.
    path = "/api/" + url.split("/api/", 1)[1]
    hit = client.post(path, json=PAYLOAD, headers={"Authorization": f"Bearer {token}"})
    assert hit.status_code == 202, hit.text

    # The persona page never shows the token again, only its last characters.
    page = _page(ctx)
    assert token not in page and f"&hellip;{token[-4:]}" in page
    assert f"/triggers/{trigger.id}" in page

    # Rotation: a new token is shown once; the old one stops working.
    r = client.post(
        f"/personas/{ctx.persona_id}/autopilot/triggers/{trigger.id}/rotate",
        data={"csrf_token": csrf_from(page)},
    )
    assert r.status_code == 200, r.text
    assert "The old token stopped working" in r.text
    new_token = _shown(r.text, "wh-token")
    assert new_token != token and _shown(r.text, "wh-url") == url
    old = client.post(path, json=PAYLOAD, headers={"Authorization": f"Bearer {token}"})
    assert old.status_code == 401
    new = client.post(
        path,
        json={**PAYLOAD, "url": "https://ex.com/2.5"},
        headers={"Authorization": f"Bearer {new_token}"},
    )
    assert new.status_code == 202, new.text


def test_webhook_form_refusals(ctx: Ctx) -> None:
    client: Any = ctx.owner.client
    web_login(client, ctx.owner.email)
    page = _page(ctx)
    # Straight into slots needs auto-approve: refused with the reason, nothing created.
    r = client.post(
        f"/personas/{ctx.persona_id}/autopilot/webhooks",
        data={"csrf_token": csrf_from(page), "destination": "slots"},
        follow_redirects=True,
    )
    assert "The webhook was not added" in r.text
    r = client.post(
        f"/personas/{ctx.persona_id}/autopilot/webhooks",
        data={"csrf_token": csrf_from(page), "platforms": ["myspace"]},
        follow_redirects=True,
    )
    assert "The webhook was not added" in r.text
    # Without the CSRF token: refused.
    r = client.post(f"/personas/{ctx.persona_id}/autopilot/webhooks", data={"name": "x"})
    assert r.status_code in (400, 403)
    assert _triggers(ctx, "webhook") == []

    # Rotating a feed's token makes no sense: said so, nothing changes.
    feed = ctx.create_trigger(
        utcnow(),
        kind="feed",
        feed_url="https://blog.example/feed.xml",
    )
    r = client.post(
        f"/personas/{ctx.persona_id}/autopilot/triggers/{feed.trigger.id}/rotate",
        data={"csrf_token": csrf_from(page)},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "Only webhook triggers have a token" in r.text


def test_engagement_follow_ups_on_off(ctx: Ctx) -> None:
    client: Any = ctx.owner.client
    web_login(client, ctx.owner.email)
    page = _page(ctx)
    assert "Off: leads and posts doing well do not get follow-up drafts." in page
    action = f"/personas/{ctx.persona_id}/autopilot/engagement"
    r = client.post(
        action,
        data={"csrf_token": csrf_from(page), "enabled": "on", "platforms": ["bluesky"]},
        follow_redirects=True,
    )
    assert "Engagement follow-ups are on" in r.text
    assert "Turn engagement follow-ups off" in r.text
    [trigger] = _triggers(ctx, "engagement")
    assert trigger.enabled and trigger.platforms == ["bluesky"]

    r = client.post(
        action, data={"csrf_token": csrf_from(page), "enabled": "off"}, follow_redirects=True
    )
    assert "Engagement follow-ups are off." in r.text and "Paused:" in r.text
    [trigger] = _triggers(ctx, "engagement")
    assert not trigger.enabled

    # On again: the same trigger (one per persona), enabled.
    r = client.post(
        action, data={"csrf_token": csrf_from(page), "enabled": "on"}, follow_redirects=True
    )
    [again] = _triggers(ctx, "engagement")
    assert again.id == trigger.id and again.enabled and again.platforms == ["bluesky"]


def test_viewer_and_outsider_cannot_change_triggers(
    ctx: Ctx, make_member: Any, outsider: Actor
) -> None:
    hook = ctx.owner.post(
        f"/api/v1/personas/{ctx.persona_id}/autopilot/triggers",
        json={"kind": "webhook", "name": "Releases"},
    ).json()
    viewer = make_member("viewer")
    web_login(viewer.client, viewer.email)
    page = viewer.client.get(f"/personas/{ctx.persona_id}").text
    assert "Add an inbound webhook" not in page and "/rotate" not in page
    assert "Turn engagement follow-ups" not in page
    base = f"/personas/{ctx.persona_id}/autopilot"
    csrf = csrf_from(page)
    assert viewer.client.post(f"{base}/webhooks", data={"csrf_token": csrf}).status_code == 403
    r = viewer.client.post(f"{base}/triggers/{hook['id']}/rotate", data={"csrf_token": csrf})
    assert r.status_code == 403
    r = viewer.client.post(f"{base}/engagement", data={"csrf_token": csrf, "enabled": "on"})
    assert r.status_code == 403

    web_login(outsider.client, outsider.email)
    csrf = csrf_from(outsider.client.get("/personas").text)
    r = outsider.client.post(f"{base}/triggers/{hook['id']}/rotate", data={"csrf_token": csrf})
    assert r.status_code == 404
    r = outsider.client.post(f"{base}/webhooks", data={"csrf_token": csrf})
    assert r.status_code == 404
    r = outsider.client.post(f"{base}/engagement", data={"csrf_token": csrf, "enabled": "on"})
    assert r.status_code == 404
    assert _triggers(ctx, "engagement") == [] and len(_triggers(ctx, "webhook")) == 1
    # The token from the API still works: nobody rotated it.
    r = ctx.owner.client.post(
        hook["webhook_path"], json=PAYLOAD, headers={"Authorization": f"Bearer {hook['token']}"}
    )
    assert r.status_code == 202, r.text
