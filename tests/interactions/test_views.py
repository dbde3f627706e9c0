"""The Interactions page and the dashboard panel: filters, lead badges, bulk triage, reply."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from digipersona.models import Interaction
from tests.interactions.conftest import Env
from tests.web.test_shell import csrf_from, web_login


def _seed(env: Env) -> dict[str, str]:
    env.connect_x()
    blind = env.connect_linkedin(scopes=("openid", "profile", "email", "w_member_social"))
    env.published(blind, "linkedin", "urn:li:share:1")
    bob = env.x.add_user("bob", "Bob Buyer")
    carol = env.x.add_user("carol", "Carol")
    ids = {
        "lead": env.x.add_mention(bob, "@persona_one do you consult? Can we talk about pricing?"),
        "praise": env.x.add_mention(carol, "@persona_one <b>great</b> thread"),
    }
    env.poll()
    return ids


def test_page_shows_leads_reasons_filters_and_platform_gaps(env: Env) -> None:
    _seed(env)
    client = env.client
    web_login(client, env.owner.email)
    page = client.get("/interactions")
    assert page.status_code == 200
    html = page.text
    assert "Bob Buyer" in html and "Lead " in html and "Why this score" in html
    assert "&lt;b&gt;great&lt;/b&gt;" in html  # platform text is escaped
    assert "Draft a reply" in html
    # LinkedIn without r_member_social: the page says why there are no LinkedIn comments.
    assert "r_member_social" in html and "not available" in html
    for label in ("Persona", "Platform", "Kind", "Status", "Min. lead score", "Since", "Search"):
        assert f">{label}</label>" in html
    leads_only = client.get("/interactions", params={"min_score": "50"}).text
    assert "Bob Buyer" in leads_only and "Carol" not in leads_only.split("Where interactions")[0]
    searched = client.get("/interactions", params={"q": "great", "kind": "mention"}).text
    assert "Carol" in searched and "Bob Buyer" not in searched
    junk = client.get("/interactions", params={"kind": "dm", "min_score": "x", "since": "no"})
    assert junk.status_code == 200  # bad filter values are ignored on the page, not a 500


def test_bulk_mark_and_reply_draft_from_the_page(env: Env) -> None:
    ids = _seed(env)
    client = env.client
    web_login(client, env.owner.email)
    html = client.get("/interactions").text
    token = csrf_from(html)
    with env.factory() as s:
        rows = {r.external_id: r.id for r in s.scalars(select(Interaction))}
    r = client.post(
        "/interactions/bulk",
        data={"csrf_token": token, "ids": [str(rows[ids["praise"]])], "status": "ignored"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with env.factory() as s:
        assert s.get(Interaction, rows[ids["praise"]]).status == "ignored"  # type: ignore[union-attr]
        assert s.get(Interaction, rows[ids["lead"]]).status == "new"  # type: ignore[union-attr]
    # Without the CSRF token nothing changes.
    r = client.post(
        "/interactions/bulk",
        data={"ids": [str(rows[ids["lead"]])], "status": "ignored"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    r = client.post(
        f"/interactions/{rows[ids['lead']]}/reply",
        data={"csrf_token": token, "source": "text", "text": "Sure, DM me."},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/content/")
    with env.factory() as s:
        row = s.get(Interaction, rows[ids["lead"]])
        assert row is not None and row.reply_post_id is not None
        assert r.headers["location"] == f"/content/{row.reply_post_id}"
    # An empty reply: back to the inbox with the reason, nothing created.
    r = client.post(
        f"/interactions/{rows[ids['praise']]}/reply",
        data={"csrf_token": token, "source": "text", "text": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/interactions"
    assert "The reply is empty" in client.get("/interactions").text
    with env.factory() as s:
        assert s.get(Interaction, rows[ids["praise"]]).reply_post_id is None  # type: ignore[union-attr]
    # Another workspace's interaction does not exist for us.
    r = client.post(
        f"/interactions/{uuid.uuid4()}/reply",
        data={"csrf_token": token, "source": "text", "text": "x"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "No such interaction" in client.get("/interactions").text


def test_dashboard_tab_loads_the_panel(env: Env) -> None:
    client = env.client
    web_login(client, env.owner.email)
    tab = client.get("/dashboard?tab=interactions").text
    assert 'hx-get="/interactions/panel"' in tab
    empty = client.get("/interactions/panel").text
    assert "No mentions, replies or comments yet" in empty
    _seed(env)
    panel = client.get("/interactions/panel").text
    assert "Likely leads" in panel and "Bob Buyer" in panel and "Lead " in panel
    assert "r_member_social" in panel
    client.cookies.clear()
    r = client.get("/interactions/panel", headers={"accept": "text/html"}, follow_redirects=False)
    assert r.status_code in (303, 401) and "Bob Buyer" not in r.text
