"""The persona page's Autopilot section: what happens next, recent runs, add/remove rule and feed."""

from __future__ import annotations

import re
from typing import Any

from tests.autopilot.conftest import Ctx
from tests.web.test_shell import csrf_from, web_login


def _page(ctx: Ctx) -> str:
    r = ctx.owner.client.get(f"/personas/{ctx.persona_id}")
    assert r.status_code == 200, r.text
    return str(r.text)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_autopilot_section_add_run_remove(ctx: Ctx) -> None:
    client: Any = ctx.owner.client
    web_login(client, ctx.owner.email)
    page = _page(ctx)
    assert "Autopilot" in page and "No drafting rule yet" in page
    assert 'for="ap-rrule"' in page and 'for="ap-feed"' in page

    r = client.post(
        f"/personas/{ctx.persona_id}/autopilot/rules",
        data={
            "csrf_token": csrf_from(page),
            "rrule": "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0",
            "mode": "fixed",
            "count": "2",
            "platforms": ["linkedin"],
            "topics": "platform teams",
            "destination": "review",
        },
        follow_redirects=True,
    )
    assert r.status_code == 200
    text = _text(r.text)
    assert re.search(
        r"Mon \d\d \w{3} 08:00 \(Europe/Berlin\): 2 LinkedIn drafts on platform teams, to review",
        text,
    ), text
    assert "Mondays at 08:00 Europe/Berlin" in text

    # A bad rule is refused with a reason and nothing is added.
    r = client.post(
        f"/personas/{ctx.persona_id}/autopilot/rules",
        data={"csrf_token": csrf_from(page), "rrule": "FREQ=MINUTELY", "platforms": ["x"]},
        follow_redirects=True,
    )
    assert "The rule was not added" in r.text and "HOURLY or coarser" in r.text
    assert len(ctx.owner.get(f"/api/v1/personas/{ctx.persona_id}/autopilot/rules").json()) == 1

    r = client.post(
        f"/personas/{ctx.persona_id}/autopilot/feeds",
        data={
            "csrf_token": csrf_from(page),
            "feed_url": "https://blog.example/feed.xml",
            "poll_minutes": "60",
            "platforms": ["x", "bluesky"],
        },
        follow_redirects=True,
    )
    assert "Feed added" in r.text and "https://blog.example/feed.xml" in r.text
    assert "checked every 60 min" in r.text
    r = client.post(
        f"/personas/{ctx.persona_id}/autopilot/feeds",
        data={"csrf_token": csrf_from(page), "feed_url": "not a url"},
        follow_redirects=True,
    )
    assert "The feed was not added" in r.text

    # "Run the rules now"; the run shows up under "Recent runs" with links to its drafts.
    page = _page(ctx)
    r = client.post(
        f"/personas/{ctx.persona_id}/autopilot/run",
        data={"csrf_token": csrf_from(page)},
        follow_redirects=True,
    )
    assert "ran 1 rule(s) and made 2 draft(s)" in r.text
    text = _text(r.text)
    assert "manual: 2 drafts made" in text
    for post in ctx.posts():
        assert f'href="/content/{post.id}"' in r.text

    # Remove the rule and the feed.
    page = _page(ctx)
    for action in re.findall(r'action="(/personas/[^"]+/delete)"', page):
        if "/autopilot/" in action:
            r = client.post(action, data={"csrf_token": csrf_from(page)}, follow_redirects=False)
            assert r.status_code == 303
    page = _page(ctx)
    assert "No drafting rule yet" in page and "checked every" not in page


def test_viewers_see_the_section_but_no_forms(ctx: Ctx, make_member: Any) -> None:
    viewer = make_member("viewer")
    ctx.owner.post(
        f"/api/v1/personas/{ctx.persona_id}/autopilot/rules", json={"rrule": "FREQ=DAILY;BYHOUR=9"}
    )
    web_login(viewer.client, viewer.email)
    page = viewer.client.get(f"/personas/{ctx.persona_id}").text
    assert "What happens next" in page and "Every day at 09:00" in page
    assert 'for="ap-rrule"' not in page and "/autopilot/rules/" not in page
    r = viewer.client.post(
        f"/personas/{ctx.persona_id}/autopilot/rules",
        data={"csrf_token": csrf_from(page), "rrule": "FREQ=DAILY"},
    )
    assert r.status_code == 403


def test_a_feed_on_a_refused_address_is_refused_on_the_page(ctx: Ctx, public_only: Any) -> None:
    client: Any = ctx.owner.client
    web_login(client, ctx.owner.email)
    page = _page(ctx)
    r = client.post(
        f"/personas/{ctx.persona_id}/autopilot/feeds",
        data={
            "csrf_token": csrf_from(page),
            "feed_url": "http://169.254.169.254/latest/meta-data/",
            "platforms": ["x"],
        },
        follow_redirects=True,
    )
    text = _text(r.text)
    assert "The feed was not added" in text
    assert "Refused to connect to 169.254.169.254: it is a link-local address" in text
    assert "DIGIPERSONA_OUTBOUND_ALLOWED_NETWORKS" in text
    assert ctx.owner.get(f"/api/v1/personas/{ctx.persona_id}/autopilot/triggers").json() == []
