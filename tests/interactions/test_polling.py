"""Polling the X and LinkedIn fakes into the inbox: once, scored, with the platform's limits."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from digipersona.models import Interaction, InteractionPoll, Notification
from tests.interactions.conftest import Env, running_env


def _interactions(env: Env) -> list[Interaction]:
    with env.factory() as s:
        return list(s.scalars(select(Interaction).order_by(Interaction.platform_created_at)))


def _poll_row(env: Env, connection_id: Any) -> InteractionPoll:
    with env.factory() as s:
        row = s.get(InteractionPoll, connection_id)
        assert row is not None
        s.expunge(row)
        return row


def test_x_mentions_stored_once_with_lead_scores_and_notified(env: Env) -> None:
    conn = env.connect_x()
    ours = env.x.seed_post(env.x.me, "How we run platform teams")
    pub_id = env.published(conn, "x", ours)
    bob = env.x.add_user("bob", "Bob Buyer")
    bob.description = "CTO at Acme GmbH"
    carol = env.x.add_user("carol", "Carol")
    lead = env.x.add_mention(
        bob, "Do you consult? We need help with our platform team. Can we talk?", reply_to=ours
    )
    praise = env.x.add_mention(carol, "@persona_one great post, love this!")

    report = env.poll()
    assert (report.polled, report.stored, report.leads) == (1, 2, 1)
    # Second poll: nothing new at the platform, nothing new stored (duplicates ignored).
    env.clock.advance(seconds=env.settings.interactions_poll_seconds + 1)
    again = env.poll()
    assert (again.polled, again.stored) == (1, 0)

    rows = _interactions(env)
    assert [r.external_id for r in rows] == [lead, praise]
    first, second = rows
    assert first.kind == "reply" and first.publication_id == pub_id
    assert first.is_lead and first.lead_score >= 50 and first.lead_reasons
    assert first.author_handle == "bob" and first.author_bio == "CTO at Acme GmbH"
    assert first.reply_target == {"parent_id": lead, "root_id": None, "extra": {}}
    assert first.status == "new"
    assert second.kind == "mention" and not second.is_lead
    with env.factory() as s:
        notes = list(s.scalars(select(Notification).where(Notification.kind == "interaction.lead")))
    assert len(notes) == 1 and notes[0].data["interaction_id"] == str(first.id)
    poll = _poll_row(env, conn)
    assert poll.cursor == praise and poll.last_error is None and poll.lease_owner is None
    since = [r.arg("since_id") for r in env.x.requests if r.raw_path.endswith("/mentions")]
    assert since == [None, praise]

    # A new mention after the cursor is picked up on the next due poll, not before.
    newer = env.x.add_mention(bob, "@persona_one what are your rates?")
    assert env.poll().polled == 0
    env.clock.advance(seconds=env.settings.interactions_poll_seconds + 1)
    assert env.poll().stored == 1
    assert _interactions(env)[-1].external_id == newer


def test_duplicate_delivery_and_deleted_author(env: Env) -> None:
    conn = env.connect_x()
    ghost = env.x.add_user("ghost", "Ghost")
    post = env.x.add_mention(ghost, "@persona_one DM me, we have budget for a workshop")
    env.x.delete_user(ghost)
    env.poll()
    # The platform re-delivers the same page (cursor lost): still one row.
    with env.factory.begin() as s:
        s.get(InteractionPoll, conn).cursor = None  # type: ignore[union-attr]
    env.clock.advance(seconds=env.settings.interactions_poll_seconds + 1)
    assert env.poll().stored == 0
    [row] = _interactions(env)
    assert row.external_id == post and row.author_name == "deleted account"
    assert row.is_lead


def test_rate_limit_moves_next_poll_to_the_reset(env: Env) -> None:
    conn = env.connect_x()
    env.x.rate_limit_next(path="/2/users/")
    report = env.poll()
    assert report.outcomes[str(conn)] == "rate_limited"
    poll = _poll_row(env, conn)
    reset = [r for r in env.x.requests if r.raw_path.endswith("/mentions")]
    assert reset and poll.next_poll_at > env.clock.now
    assert poll.next_poll_at <= env.clock.now + timedelta(minutes=16)
    assert "rate limit" in (poll.last_error or "")
    assert env.poll().polled == 0  # not before the reset


def test_bad_cursor_recovers(env: Env) -> None:
    conn = env.connect_x()
    bob = env.x.add_user("bob", "Bob")
    post = env.x.add_mention(bob, "@persona_one hello")
    with env.factory.begin() as s:
        from digipersona.models import InteractionPoll as P

        s.add(
            P(
                connection_id=conn,
                workspace_id=env.owner.workspace_id,
                platform="x",
                cursor="garbage",
                next_poll_at=env.clock.now,
            )
        )
    report = env.poll()
    assert report.outcomes[str(conn)] == "ok"
    assert [r.external_id for r in _interactions(env)] == [post]
    assert _poll_row(env, conn).cursor == post


def test_linkedin_comments_and_unsupported_without_permission(env: Env) -> None:
    readable = env.connect_linkedin()
    from tests.interactions.conftest import LI_READ

    # A post of ours on LinkedIn, published through the fake, with a comment by someone else.
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
            "commentary": "Platform teams",
            "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED"},
            "lifecycleState": "PUBLISHED",
        },
    )
    urn = r.headers["x-restli-id"]
    env.published(readable, "linkedin", urn)
    bob = env.linkedin.add_member("bob1", "Bob", "bob@example.com")
    comment = env.linkedin.add_comment(urn, bob, "Are you available for a workshop next month?")

    report = env.poll()
    assert report.outcomes[str(readable)] == "ok"
    [row] = _interactions(env)
    assert row.external_id == comment and row.kind == "comment" and row.platform == "linkedin"
    assert row.reply_target == {"parent_id": comment, "root_id": urn, "extra": {}}
    assert row.is_lead

    # A second LinkedIn connection without r_member_social: recorded, not retried forever.
    with env.factory.begin() as s:
        from digipersona.models import Persona

        other = Persona(workspace_id=env.owner.workspace_id, name="Other")
        s.add(other)
        s.flush()
        other_id = str(other.id)
    env.persona_id, keep = other_id, env.persona_id
    blind = env.connect_linkedin(scopes=("openid", "profile", "email", "w_member_social"))
    env.published(blind, "linkedin", urn)
    env.persona_id = keep
    env.clock.advance(seconds=env.settings.interactions_poll_seconds + 1)
    report = env.poll()
    assert report.outcomes[str(blind)] == "unsupported"
    poll = _poll_row(env, blind)
    assert poll.unsupported_reason and "r_member_social" in poll.unsupported_reason
    env.clock.advance(days=2)
    report = env.poll()
    assert str(blind) not in report.outcomes and report.outcomes[str(readable)] == "ok"
    # Reconnecting (a new token version) makes it worth trying again.
    with env.factory.begin() as s:
        from digipersona.models import Connection

        s.get(Connection, blind).token_version += 1  # type: ignore[union-attr]
    report = env.poll()
    assert report.outcomes[str(blind)] == "unsupported"


def test_two_pollers_at_once_poll_each_connection_once(env: Env) -> None:
    env.connect_x()
    bob = env.x.add_user("bob", "Bob")
    for n in range(3):
        env.x.add_mention(bob, f"@persona_one hello {n}")
    reports: list[Any] = []
    barrier = threading.Barrier(2)

    def run(name: str) -> None:
        barrier.wait()
        reports.append(env.poll(owner=name))

    threads = [threading.Thread(target=run, args=(f"p{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.polled for r in reports) == 1
    mentions = [r for r in env.x.requests if r.raw_path.endswith("/mentions")]
    assert len(mentions) == 1
    with env.factory() as s:
        assert s.scalar(select(func.count()).select_from(Interaction)) == 3


def test_x_reads_are_billed_and_a_spent_budget_stops_reading(env: Env) -> None:
    from digipersona.models import Connection

    conn = env.connect_x()
    bob = env.x.add_user("bob", "Bob")
    for n in range(4):
        env.x.add_mention(bob, f"@persona_one hello {n}")
    env.poll()
    with env.factory() as s:
        row = s.get(Connection, conn)
        assert row is not None
        assert row.spend_usd == 0.02 and row.spend_month == env.clock.now.strftime("%Y-%m")
    with env.factory.begin() as s:
        row = s.get(Connection, conn)
        assert row is not None
        row.monthly_budget_usd = 0.02
    calls = len(env.x.requests)
    env.clock.advance(seconds=env.settings.interactions_poll_seconds + 1)
    report = env.poll()
    assert report.outcomes[str(conn)] == "budget"
    assert len(env.x.requests) == calls  # nothing read, nothing billed
    poll = _poll_row(env, conn)
    assert "budget" in (poll.last_error or "") and poll.next_poll_at.day == 1


def _linkedin_post(env: Env, text: str) -> str:
    """A post of ours published through the LinkedIn fake; its URN."""
    import httpx

    from tests.interactions.conftest import LI_READ

    r = httpx.post(
        f"{env.linkedin.url}/rest/posts",
        headers={
            "Authorization": f"Bearer {env.linkedin.issue_token(scopes=LI_READ)}",
            "LinkedIn-Version": "202609",
            "X-Restli-Protocol-Version": "2.0.0",
        },
        json={
            "author": env.linkedin.consenting.urn,
            "commentary": text,
            "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED"},
            "lifecycleState": "PUBLISHED",
        },
    )
    return str(r.headers["x-restli-id"])


def _comment_reads(env: Env) -> list[str]:
    return [r.raw_path for r in env.linkedin.requests if "socialActions" in r.raw_path]


def _request_quota(env: Env) -> Any:
    from digipersona.platforms import quotas

    rule = quotas.rule_named("linkedin", "app_requests", env.settings)
    assert rule is not None
    return rule


def test_linkedin_reads_count_against_the_daily_app_request_quota(
    database_url: str, tmp_path: Any
) -> None:
    # One request a day and two recent posts: the newest is read (the pair could never fit in
    # a window), then the spent window waits for midnight.
    with running_env(database_url, tmp_path, quota_linkedin_app_requests_per_day=1) as env:
        conn = env.connect_linkedin()
        env.published(conn, "linkedin", "urn:li:share:1")
        env.clock.advance(minutes=1)
        env.published(conn, "linkedin", "urn:li:share:2")
        report = env.poll()
        assert report.outcomes[str(conn)] == "ok"
        assert ["share%3A2" in p for p in _comment_reads(env)] == [True]

        env.clock.advance(seconds=env.settings.interactions_poll_seconds + 1)
        report = env.poll()
        assert report.outcomes[str(conn)] == "budget"
        assert len(_comment_reads(env)) == 1
        poll = _poll_row(env, conn)
        assert poll.next_poll_at == _request_quota(env).window_end(env.clock.now)
        assert "request budget" in (poll.last_error or "")
        assert "DIGIPERSONA_QUOTA_LINKEDIN_APP_REQUESTS_PER_DAY" in (poll.last_error or "")

        env.clock.now = poll.next_poll_at
        assert env.poll().outcomes[str(conn)] == "ok"
        assert len(_comment_reads(env)) == 2


def test_a_partly_spent_linkedin_window_reads_the_newest_posts_and_keeps_the_cursor(
    database_url: str, tmp_path: Any
) -> None:
    from digipersona.db import write_scope
    from digipersona.platforms import quotas

    with running_env(database_url, tmp_path, quota_linkedin_app_requests_per_day=5) as env:
        env.linkedin.clock = env.clock
        conn = env.connect_linkedin()
        oldest, middle, newest = (_linkedin_post(env, f"Post {n}") for n in range(3))
        for urn in (oldest, middle, newest):
            env.published(conn, "linkedin", urn)
            env.clock.advance(minutes=1)
        bob = env.linkedin.add_member("bob1", "Bob", "bob@example.com")
        early = env.linkedin.add_comment(oldest, bob, "An early comment on the oldest post")
        env.clock.advance(minutes=1)
        late = env.linkedin.add_comment(newest, bob, "A later comment on the newest post")
        # Publishing used three of today's five requests: two posts' comments fit.
        rule = _request_quota(env)
        with write_scope(env.factory) as s:
            quotas.consume(
                s, [rule], platform="linkedin", connection_id=conn, now=env.clock.now, cost=3
            )

        report = env.poll()
        assert report.outcomes[str(conn)] == "ok" and report.stored == 1
        assert len(_comment_reads(env)) == 2
        with env.factory() as s:
            assert quotas.usage(s, rule, "linkedin", conn, env.clock.now) == 5
        assert [r.external_id for r in _interactions(env)] == [late]
        # The cursor stays: past the late comment it would hide the oldest post's early one.
        assert _poll_row(env, conn).cursor is None

        env.clock.now = rule.window_end(env.clock.now)
        report = env.poll()
        assert report.outcomes[str(conn)] == "ok" and report.stored == 1
        assert len(_comment_reads(env)) == 5
        assert [r.external_id for r in _interactions(env)] == [early, late]
        assert _poll_row(env, conn).cursor is not None


def test_the_periodic_job_polls_and_marks_replied(env: Env) -> None:
    from digipersona.worker import jobs, registry, runtime

    jobs.load_all()
    assert "interactions.poll" in registry.PERIODIC
    job = registry.TASKS["interactions.poll"]
    env.connect_x()
    bob = env.x.add_user("bob", "Bob")
    env.x.add_mention(bob, "@persona_one are you available for a workshop?")
    built = runtime.build_runtime(env.settings, factory=env.factory)
    runtime.set_runtime(built)
    try:
        result = job()
        assert result == {"polled": 1, "stored": 1, "leads": 1}
        assert job()["polled"] == 0  # not due again yet
    finally:
        runtime.set_runtime(None)
        built.http.close()
    [row] = _interactions(env)
    assert row.is_lead and row.status == "new"


def test_a_dead_pollers_lease_expires_and_another_takes_over(env: Env) -> None:
    from digipersona.db import write_scope
    from digipersona.interactions.polling import LEASE
    from digipersona.interactions.repository import PollRepository

    conn = env.connect_x()
    bob = env.x.add_user("bob", "Bob")
    env.x.add_mention(bob, "@persona_one hi")
    with write_scope(env.factory) as s:
        PollRepository(s).ensure_rows(env.clock.now)
    with write_scope(env.factory) as s:
        assert PollRepository(s).claim(conn, "dead-worker", env.clock.now, LEASE)
    assert env.poll(owner="live").polled == 0  # leased by the dead worker
    env.clock.advance(seconds=LEASE.total_seconds() + 1)
    report = env.poll(owner="live")
    assert report.polled == 1 and report.stored == 1
    # The dead worker's late finish changes nothing: it no longer holds the lease.
    with write_scope(env.factory) as s:
        assert not PollRepository(s).finish(conn, "dead-worker", cursor="bogus")
    assert _poll_row(env, conn).cursor != "bogus"


def test_store_page_skips_items_without_ids_and_repeats_within_a_page(env: Env) -> None:
    from digipersona.db import write_scope
    from digipersona.interactions.polling import store_page
    from digipersona.kit.time import utcnow
    from digipersona.models import Connection
    from digipersona.platforms.base import InboundInteraction, InteractionPage

    conn_id = env.connect_x()

    def item(external_id: str, text: str) -> InboundInteraction:
        return InboundInteraction(
            external_id=external_id,
            kind="mention",
            text=text,
            created_at=utcnow().replace(tzinfo=None),  # a naive time from a sloppy platform
            author_id="",
            author_handle="",
        )

    page = InteractionPage(
        items=[item("", "no id"), item("7", "first"), item("7", "again"), item("8", "")],
        cursor="8",
    )
    with write_scope(env.factory) as s:
        connection = s.get(Connection, conn_id)
        assert connection is not None
        assert store_page(s, connection, page, now=env.clock.now) == (2, 0)
    rows = _interactions(env)
    assert sorted(r.external_id for r in rows) == ["7", "8"]
    assert next(r for r in rows if r.external_id == "7").text == "first"
    empty = next(r for r in rows if r.external_id == "8")
    assert empty.lead_score == 0 and not empty.is_lead
    assert all(r.platform_created_at is not None and r.platform_created_at.tzinfo for r in rows)
