"""A/B tests in the web UI: started from the content editor, results with their uncertainty on
the post's page and on /analytics."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from digipersona.kit.time import utcnow
from digipersona.models import AbTest, Connection, MetricSnapshot, Post, Publication
from digipersona.publishing import summary
from tests.analytics.test_abtest import draft
from tests.analytics.test_api import persona
from tests.conftest import Actor
from tests.web.test_shell import csrf_from, web_login


def _count(factory: Any, model: Any) -> int:
    with factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _approved_pair(factory: Any, owner: Actor, pid: str) -> tuple[str, str]:
    """Two approved X posts of the persona, and an X connection to schedule them on."""
    with factory.begin() as s:
        s.add(
            Connection(
                workspace_id=owner.workspace_id,
                persona_id=uuid.UUID(pid),
                platform="x",
                account_id="acct-x",
                access_token_enc="x",
            )
        )
        posts = [
            Post(
                workspace_id=owner.workspace_id,
                persona_id=uuid.UUID(pid),
                body=text,
                status="approved",
                platforms=["x"],
            )
            for text in ("Variant A: a statement.", "Variant B: a question?")
        ]
        s.add_all(posts)
        s.flush()
        return str(posts[0].id), str(posts[1].id)


def test_start_from_editor_with_another_post(owner: Actor, session_factory: Any) -> None:
    client: Any = owner.client
    web_login(client, owner.email)
    pid = persona(owner)
    a, b = draft(owner, pid, "Variant A text"), draft(owner, pid, "Variant B text")
    other_platform = draft(owner, pid, "LinkedIn only", ["linkedin"])

    editor = client.get(f"/content/{a}").text
    assert f'hx-get="/content/{a}/ab-tests"' in editor
    fragment = client.get(f"/content/{a}/ab-tests").text
    assert "not part of an A/B test" in fragment and f'href="/content/{a}/ab-test"' in fragment

    form = client.get(f"/content/{a}/ab-test")
    assert form.status_code == 200
    # Only posts of the same persona and platforms are offered as variant B.
    assert f'value="{b}"' in form.text and f'value="{other_platform}"' not in form.text
    assert f'value="{a}"' not in form.text
    assert 'for="f-post_b_id"' in form.text and 'for="f-body_b"' in form.text

    r = client.post(
        f"/content/{a}/ab-test",
        data={
            "csrf_token": csrf_from(form.text),
            "name": "Hook test",
            "source": "existing",
            "post_b_id": b,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/content/{a}#ab-tests"
    [test] = owner.get("/api/v1/ab-tests").json()["items"]
    assert (test["name"], test["variants"]["a"]["post_id"], test["variants"]["b"]["post_id"]) == (
        "Hook test",
        a,
        b,
    )
    fragment = client.get(f"/content/{a}/ab-tests").text
    assert "Hook test" in fragment and "This post is variant A" in fragment
    assert "Waiting for figures of both variants" in fragment
    # B's page says it is variant B.
    assert "this post is variant B" in client.get(f"/content/{b}/ab-tests").text


def test_write_variant_b(owner: Actor, session_factory: Any) -> None:
    client: Any = owner.client
    web_login(client, owner.email)
    pid = persona(owner)
    a = draft(owner, pid, "Variant A text", ["x", "bluesky"])
    form = client.get(f"/content/{a}/ab-test").text
    assert "no other post for the same platforms" in form
    r = client.post(
        f"/content/{a}/ab-test",
        data={"csrf_token": csrf_from(form), "source": "write", "body_b": "Is B better?"},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "A/B test started" in r.text
    [test] = owner.get("/api/v1/ab-tests").json()["items"]
    b = owner.get(f"/api/v1/content/{test['variants']['b']['post_id']}").json()
    assert b["body"] == "Is B better?" and sorted(b["platforms"]) == ["bluesky", "x"]
    assert b["status"] == "draft" and b["persona_id"] == pid


def test_form_errors_keep_input_and_leave_nothing_behind(
    owner: Actor, session_factory: Any
) -> None:
    client: Any = owner.client
    web_login(client, owner.email)
    pid = persona(owner)
    a = draft(owner, pid, "Variant A text")
    li = draft(owner, pid, "LinkedIn only", ["linkedin"])
    csrf = csrf_from(client.get(f"/content/{a}/ab-test").text)
    posts_before = _count(session_factory, Post)

    r = client.post(f"/content/{a}/ab-test", data={"csrf_token": csrf, "name": "N1"})
    assert r.status_code == 422 and 'id="e-post_b_id"' in r.text
    assert 'value="N1"' in r.text

    r = client.post(
        f"/content/{a}/ab-test",
        data={"csrf_token": csrf, "source": "write", "body_b": "   "},
    )
    assert r.status_code == 422 and 'id="e-body_b"' in r.text

    # A post for other platforms (sent by hand): the service's message, at the field.
    r = client.post(
        f"/content/{a}/ab-test",
        data={"csrf_token": csrf, "source": "existing", "post_b_id": li},
    )
    assert r.status_code == 422
    assert re.search(r'id="e-post_b_id" role="alert">[^<]*same platforms', r.text)

    # Scheduling drafts: refused at the schedule field; the written B is not kept either.
    r = client.post(
        f"/content/{a}/ab-test",
        data={
            "csrf_token": csrf,
            "source": "write",
            "body_b": "Typed B",
            "schedule": "on",
        },
    )
    assert r.status_code == 409
    assert re.search(r'id="e-schedule" role="alert">[^<]*approve variant A and B', r.text)
    assert "Typed B</textarea>" in r.text and 'name="schedule" checked' in r.text
    assert _count(session_factory, AbTest) == 0
    assert _count(session_factory, Post) == posts_before

    # No CSRF token: refused.
    r = client.post(f"/content/{a}/ab-test", data={"source": "write", "body_b": "x"})
    assert r.status_code in (400, 403)
    assert _count(session_factory, AbTest) == 0


def test_schedule_both_and_result_with_uncertainty(owner: Actor, session_factory: Any) -> None:
    client: Any = owner.client
    web_login(client, owner.email)
    pid = persona(owner, "Europe/Berlin")
    a, b = _approved_pair(session_factory, owner, pid)
    form = client.get(f"/content/{a}/ab-test").text
    r = client.post(
        f"/content/{a}/ab-test",
        data={"csrf_token": csrf_from(form), "source": "existing", "post_b_id": b},
        follow_redirects=True,
    )
    assert "A/B test started." in r.text
    fragment = client.get(f"/content/{a}/ab-tests").text
    assert "Schedule both into comparable slots" in fragment
    action = re.search(r'action="(/content/[^"]+/schedule)"', fragment)
    assert action
    r = client.post(action.group(1), data={"csrf_token": csrf_from(form)}, follow_redirects=True)
    assert "Both variants are scheduled into comparable slots." in r.text
    zone = ZoneInfo("Europe/Berlin")
    with session_factory() as s:
        pub_a = s.scalars(select(Publication).where(Publication.post_id == uuid.UUID(a))).one()
        pub_b = s.scalars(select(Publication).where(Publication.post_id == uuid.UUID(b))).one()
    local_a, local_b = pub_a.scheduled_at.astimezone(zone), pub_b.scheduled_at.astimezone(zone)
    assert local_b.date() - local_a.date() == timedelta(days=7)
    assert (local_b.weekday(), local_b.hour, local_b.minute) == (local_a.weekday(), 6, 30)
    # Scheduled now: the button is gone.
    assert "Schedule both" not in client.get(f"/content/{a}/ab-tests").text

    with session_factory.begin() as s:
        for pub, likes in ((pub_a, 80), (pub_b, 150)):
            row = s.get(Publication, pub.id)
            row.state, row.external_id, row.published_at = "published", uuid.uuid4().hex, utcnow()
            s.add(
                MetricSnapshot(
                    workspace_id=owner.workspace_id,
                    publication_id=pub.id,
                    taken_at=utcnow(),
                    likes=likes,
                    reposts=0,
                    replies=0,
                    quotes=0,
                    impressions=8000,
                )
            )
        summary.refresh(s, [pub_a.id, pub_b.id])  # as the engine and the metrics sync do
    for html in (
        client.get(f"/content/{b}/ab-tests").text,
        client.get("/analytics", params={"persona_id": pid}).text,
    ):
        text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
        assert "B is better with probability" in text
        assert re.search(r"Variant A 1\.0% \(95% interval 0\.\d% to 1\.\d%\)", text), text
        assert re.search(r"Variant B 1\.9% \(95% interval 1\.\d% to 2\.\d%\)", text), text
        assert re.search(r"Chance B is better (9\d|100)%", text), text
        assert re.search(r"Lift of B over A \+\d+% \(95% interval \+\d+% to \+\d+%\)", text)
        assert "beta-binomial" in text


def test_roles_and_workspaces(
    owner: Actor, outsider: Actor, make_member: Any, session_factory: Any
) -> None:
    pid = persona(owner)
    a, b = draft(owner, pid, "Variant A text"), draft(owner, pid, "Variant B text")
    viewer = make_member("viewer")
    web_login(viewer.client, viewer.email)
    assert viewer.client.get(f"/content/{a}/ab-test").status_code == 403
    assert "Start an A/B test" not in viewer.client.get(f"/content/{a}/ab-tests").text
    csrf = csrf_from(viewer.client.get("/content").text)
    r = viewer.client.post(
        f"/content/{a}/ab-test", data={"csrf_token": csrf, "source": "existing", "post_b_id": b}
    )
    assert r.status_code == 403

    web_login(outsider.client, outsider.email)
    assert outsider.client.get(f"/content/{a}/ab-test").status_code == 404
    assert outsider.client.get(f"/content/{a}/ab-tests").status_code == 404
    csrf = csrf_from(outsider.client.get("/content").text)
    r = outsider.client.post(
        f"/content/{a}/ab-test", data={"csrf_token": csrf, "source": "existing", "post_b_id": b}
    )
    assert r.status_code == 404
    assert _count(session_factory, AbTest) == 0
