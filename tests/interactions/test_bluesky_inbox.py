"""The Bluesky inbox end to end against the full local network (PDS + the real AppView):
connect through the API, publish through the engine, other accounts reply, mention and quote,
the polling job stores each once with a lead score, and an approved reply draft is published
by the engine as a real reply threaded under the interaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from digipersona.interactions import polling
from digipersona.models import InteractionPoll, Notification
from digipersona.worker import jobs, registry, runtime
from tests.interactions.bluesky import (
    Sky,
    approve_and_schedule,
    bluesky_env,
    expire_session,
    publish_post,
    run_engine,
    stored_access_token,
)
from tests.peers.bsky_network import BskyNetwork, PostRef
from tests.web.test_shell import web_login

pytestmark = pytest.mark.pds

LEAD_TEXT = "Do you consult? What are your rates? Can we talk?"


@pytest.fixture
def sky(bsky_network: BskyNetwork, database_url: str, tmp_path: Any) -> Iterator[Sky]:
    with bluesky_env(bsky_network, database_url, tmp_path) as built:
        yield built


def poll(sky: Sky) -> polling.PollReport:
    """``poll_due`` with the runtime's own pieces (session factory, settings, cipher, HTTP)
    and the test clock."""
    built = runtime.build_runtime(sky.env.settings, factory=sky.env.factory)
    try:
        return polling.poll_due(
            built.factory, built.settings, built.cipher, built.http, clock=sky.env.clock
        )
    finally:
        built.http.close()


def inbox(sky: Sky, **params: Any) -> dict[str, dict[str, Any]]:
    r = sky.env.owner.get("/api/v1/interactions", params={"limit": 200, **params})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["items"])
    return {item["external_id"]: item for item in body["items"]}


def test_replies_mentions_quotes_and_a_lead_reach_the_inbox_and_a_reply_is_threaded(
    sky: Sky,
) -> None:
    net, env = sky.net, sky.env
    _, pub, ours = publish_post(sky, "How we run platform teams: small, close to users.")

    bob = net.create_account("bob", display_name="Bob Reader")
    carol = net.create_account("carol", display_name="Carol")
    dave = net.create_account("dave", display_name="Dave")
    erin = net.create_account(
        "erin", display_name="Erin Buyer", description="Head of Platform at Example GmbH"
    )
    reply = net.post(bob, "Nice write-up, thanks for sharing.", reply_to=ours)
    mention = net.post(carol, "Interesting account to follow:", mention=sky.account)
    quote = net.post(dave, "Good thread on team structure", quote=ours)
    lead = net.post(erin, LEAD_TEXT, mention=sky.account)
    net.wait_notifications(sky.account, 4)

    report = poll(sky)
    assert report.outcomes == {str(sky.connection_id): "ok"}
    assert (report.polled, report.stored, report.leads) == (1, 4, 1)

    items = inbox(sky, platform="bluesky")
    assert set(items) == {reply.uri, mention.uri, quote.uri, lead.uri}
    assert {uri: item["kind"] for uri, item in items.items()} == {
        reply.uri: "reply",
        mention.uri: "mention",
        quote.uri: "quote",
        lead.uri: "mention",
    }
    for item in items.values():
        assert item["platform"] == "bluesky" and item["status"] == "new"
        assert item["connection_id"] == str(sky.connection_id)
        assert item["persona_id"] == env.persona_id
        assert 0 <= item["lead_score"] <= 100
    # Replies and quotes of our post are linked to the publication they answer.
    assert items[reply.uri]["publication_id"] == pub["id"]
    assert items[quote.uri]["publication_id"] == pub["id"]
    assert items[reply.uri]["subject_external_id"] == ours.uri
    assert items[mention.uri]["publication_id"] is None

    got = items[reply.uri]
    assert got["text"] == "Nice write-up, thanks for sharing."
    assert (got["author_id"], got["author_handle"], got["author_name"]) == (
        bob.did,
        bob.handle,
        "Bob Reader",
    )
    assert got["url"] == f"https://bsky.app/profile/{bob.handle}/post/{reply.rkey}"
    assert items[quote.uri]["text"] == "Good thread on team structure"

    buyer = items[lead.uri]
    assert buyer["text"] == f"{LEAD_TEXT} @{sky.account.handle}"
    assert buyer["is_lead"] is True and buyer["lead_score"] >= 50
    assert buyer["lead_reasons"]
    assert buyer["author_bio"] == "Head of Platform at Example GmbH"
    for uri in (reply.uri, mention.uri, quote.uri):
        assert items[uri]["is_lead"] is False and items[uri]["lead_score"] < 50, items[uri]
    assert set(inbox(sky, is_lead="true")) == {lead.uri}
    assert set(inbox(sky, kind="quote")) == {quote.uri}
    with env.factory() as s:
        notes = list(s.scalars(select(Notification).where(Notification.kind == "interaction.lead")))
    assert [n.data["interaction_id"] for n in notes] == [buyer["id"]]
    with env.factory() as s:
        row = s.get(InteractionPoll, sky.connection_id)
        assert row is not None and row.cursor and row.last_error is None

    [source] = env.owner.get("/api/v1/interactions/sources").json()
    assert (source["platform"], source["handle"], source["supported"]) == (
        "bluesky",
        sky.account.handle,
        True,
    )
    assert source["last_polled_at"] and source["last_error"] is None
    # The Interactions page shows them, the lead marked as such.
    web_login(env.client, env.owner.email)
    html = env.client.get("/interactions", params={"platform": "bluesky"}).text
    assert "Erin Buyer" in html and "Bob Reader" in html and "Lead " in html

    # A second poll (due again) finds nothing new: the inbox is unchanged.
    env.clock.advance(seconds=env.settings.interactions_poll_seconds + 1)
    again = poll(sky)
    assert (again.polled, again.stored, again.leads) == (1, 0, 0)
    assert set(inbox(sky)) == set(items)

    # Draft a reply to Bob's reply; nothing is sent before approval.
    r = env.owner.post(
        f"/api/v1/interactions/{got['id']}/reply-drafts",
        json={"text": "Thanks Bob! More on this next week."},
    )
    assert r.status_code == 201, r.text
    draft = r.json()
    assert draft["post_status"] == "draft" and draft["auto_sent"] is False
    assert run_engine(sky) == {}
    assert net.wait_notifications(bob, 0) == []

    approve_and_schedule(sky, draft["post_id"])
    assert list(run_engine(sky).values()) == ["published"]
    [reply_pub] = env.owner.get(f"/api/v1/content/{draft['post_id']}/schedule").json()[
        "publications"
    ]
    answer_uri = str(reply_pub["external_id"])
    repo, collection, rkey = answer_uri.removeprefix("at://").split("/")
    assert (repo, collection) == (sky.account.did, "app.bsky.feed.post")
    # The record on the PDS: parent is Bob's reply, root is our original post.
    record = net.xrpc(
        "GET",
        "com.atproto.repo.getRecord",
        params={"repo": repo, "collection": collection, "rkey": rkey},
    ).json()["value"]
    assert record["text"] == "Thanks Bob! More on this next week."
    assert record["reply"]["parent"] == reply.as_json()
    assert record["reply"]["root"] == ours.as_json()
    # The AppView threads it: our post -> Bob's reply -> our answer; Bob is notified.
    answer = net.wait_until(
        lambda: net.appview_posts([answer_uri]).get(answer_uri), what="our reply"
    )
    thread = net.xrpc(
        "GET",
        "app.bsky.feed.getPostThread",
        token=sky.account.access_jwt,
        params={"uri": ours.uri, "depth": "6"},
    ).json()["thread"]
    under_bob = next(r for r in thread["replies"] if r["post"]["uri"] == reply.uri)
    assert [r["post"]["uri"] for r in under_bob["replies"]] == [answer_uri]
    [notified] = net.wait_notifications(bob, 1)
    assert (notified["uri"], notified["reason"]) == (answer_uri, "reply")

    # The periodic job marks the interaction replied; our own reply is never read back.
    jobs.load_all()
    job = registry.TASKS["interactions.poll"]
    env.clock.advance(seconds=env.settings.interactions_poll_seconds + 1)
    built = runtime.build_runtime(env.settings, factory=env.factory)
    runtime.set_runtime(built)
    try:
        job()
    finally:
        runtime.set_runtime(None)
        built.http.close()
    after = inbox(sky)
    assert after[reply.uri]["status"] == "replied"
    assert after[reply.uri]["reply_post_id"] == draft["post_id"]
    assert answer["uri"] not in after and set(after) == set(items)
    assert poll(sky).stored == 0
    assert (after[lead.uri]["status"], after[quote.uri]["status"]) == ("new", "new")


def test_a_new_reply_after_the_first_poll_is_picked_up_by_the_next(sky: Sky) -> None:
    net, env = sky.net, sky.env
    _, _, ours = publish_post(sky, "Second post: on-call that does not burn people out.")
    bob = net.create_account("bob")
    first = net.post(bob, "Agreed.", reply_to=ours)
    net.wait_notifications(sky.account, 1)
    assert poll(sky).stored == 1
    later: PostRef = net.post(bob, "Are you available for a workshop in March?", reply_to=ours)
    net.wait_notifications(sky.account, 2)
    assert poll(sky).polled == 0  # not due yet
    env.clock.advance(seconds=env.settings.interactions_poll_seconds + 1)
    report = poll(sky)
    assert (report.stored, report.leads) == (1, 1)
    items = inbox(sky)
    assert set(items) == {first.uri, later.uri}
    assert items[later.uri]["is_lead"] is True


def test_an_ended_access_token_is_refreshed_once_and_the_poll_goes_on(sky: Sky) -> None:
    net = sky.net
    _, _, ours = publish_post(sky, "Third post: platform roadmaps.")
    reply = net.post(
        net.create_account("bob"), "Can we talk about your roadmap work?", reply_to=ours
    )
    net.wait_notifications(sky.account, 1)
    version = expire_session(sky)

    report = poll(sky)
    assert report.outcomes == {str(sky.connection_id): "ok"} and report.stored == 1
    assert set(inbox(sky)) == {reply.uri}
    token, new_version = stored_access_token(sky)
    assert new_version == version + 1 and token.count(".") == 2  # a fresh JWT, stored
    with sky.env.factory() as s:
        row = s.get(InteractionPoll, sky.connection_id)
        assert row is not None and row.last_error is None


def test_an_opted_in_template_reply_is_sent_with_a_mention_of_the_author(sky: Sky) -> None:
    net, env = sky.net, sky.env
    erin = net.create_account("erin", display_name="Erin Buyer")
    lead = net.post(erin, LEAD_TEXT, mention=sky.account)
    net.wait_notifications(sky.account, 1)
    assert poll(sky).leads == 1
    [item] = inbox(sky).values()
    templates = {
        "templates": [{"id": "call", "class": "sales", "text": "{handle} happy to talk: DM me."}],
        "auto_send_classes": ["sales"],
    }
    r = env.owner.patch(f"/api/v1/personas/{env.persona_id}", json={"reply_templates": templates})
    assert r.status_code == 200, r.text
    r = env.owner.post(
        f"/api/v1/interactions/{item['id']}/reply-drafts", json={"template_id": "call"}
    )
    assert r.status_code == 201, r.text
    sent = r.json()
    assert sent["auto_sent"] is True and len(sent["publication_ids"]) == 1
    assert sent["text"] == f"@{erin.handle} happy to talk: DM me."
    assert list(run_engine(sky).values()) == ["published"]
    [pub] = env.owner.get(f"/api/v1/content/{sent['post_id']}/schedule").json()["publications"]
    repo, collection, rkey = str(pub["external_id"]).removeprefix("at://").split("/")
    record = net.xrpc(
        "GET",
        "com.atproto.repo.getRecord",
        params={"repo": repo, "collection": collection, "rkey": rkey},
    ).json()["value"]
    # A reply to a top-level mention: the mention is both root and parent.
    assert record["reply"] == {"root": lead.as_json(), "parent": lead.as_json()}
    mention_bytes = len(f"@{erin.handle}".encode())
    assert record["facets"] == [
        {
            "index": {"byteStart": 0, "byteEnd": mention_bytes},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": erin.did}],
        }
    ]
    notified = net.wait_notifications(erin, 1)
    assert pub["external_id"] in {n["uri"] for n in notified}
    polling.mark_replied(env.factory)
    assert inbox(sky)[lead.uri]["status"] == "replied"


def test_a_reply_to_a_post_deleted_meanwhile_is_not_published(sky: Sky) -> None:
    net, env = sky.net, sky.env
    _, _, ours = publish_post(sky, "Fourth post: service ownership.")
    bob = net.create_account("bob")
    reply = net.post(bob, "What do you charge for a review?", reply_to=ours)
    net.wait_notifications(sky.account, 1)
    poll(sky)
    [item] = inbox(sky).values()
    r = env.owner.post(
        f"/api/v1/interactions/{item['id']}/reply-drafts", json={"text": "It depends, DM me."}
    )
    assert r.status_code == 201, r.text
    draft = r.json()
    net.delete_post(bob, reply)
    net.wait_gone(reply)

    approve_and_schedule(sky, draft["post_id"])
    assert list(run_engine(sky).values()) == ["failed"]
    [pub] = env.owner.get(f"/api/v1/content/{draft['post_id']}/schedule").json()["publications"]
    assert pub["state"] == "failed" and pub["error_class"] == "Permanent", pub
    assert reply.uri in pub["last_error"] and "deleted" in pub["last_error"]
    # Nothing was written: our repo holds only the original post.
    records = net.xrpc(
        "GET",
        "com.atproto.repo.listRecords",
        params={"repo": sky.account.did, "collection": "app.bsky.feed.post"},
    ).json()["records"]
    assert [r["uri"] for r in records] == [ours.uri]
    polling.mark_replied(env.factory)
    assert inbox(sky)[reply.uri]["status"] == "read"
