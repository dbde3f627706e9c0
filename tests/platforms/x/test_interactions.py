"""X read-back: mentions timeline against the fake (platform-apis 1.5, 1.6, 1.7)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from digipersona.kit.time import utcnow
from digipersona.platforms import errors
from digipersona.platforms.base import Credentials, ReadBackUnsupported
from digipersona.platforms.x.provider import XProvider
from tests.fakes.x import FakeX


def test_mentions_replies_and_quotes_oldest_first_with_authors(
    fake: FakeX, provider: XProvider, credentials: Credentials
) -> None:
    mine = fake.seed_post(fake.me, "Our new platform engineering guide")
    bob = fake.add_user("bob", "Bob Buyer")
    bob.description = "CTO at Acme"
    carol = fake.add_user("carol", "Carol")
    m1 = fake.add_mention(bob, "@persona_one can we talk about a workshop for our team?")
    r1 = fake.add_mention(carol, "Great post!", reply_to=mine)
    q1 = fake.add_mention(carol, "@persona_one worth reading", quote_of=mine)
    fake.seed_post(carol, "unrelated post")

    page = provider.fetch_interactions(credentials, cursor=None)

    assert [i.external_id for i in page.items] == [m1, r1, q1]
    assert [i.kind for i in page.items] == ["mention", "reply", "quote"]
    first = page.items[0]
    assert (first.author_handle, first.author_name, first.author_bio) == (
        "bob",
        "Bob Buyer",
        "CTO at Acme",
    )
    assert first.url == f"https://x.com/bob/status/{m1}"
    assert first.reply_target is not None and first.reply_target.parent_id == m1
    assert page.items[1].subject_external_id == mine
    assert page.items[1].text.startswith("@persona_one Great post!")
    assert page.items[2].subject_external_id == mine
    assert page.cursor == q1
    call = [r for r in fake.requests if r.raw_path.endswith("/mentions")][-1]
    assert call.arg("expansions") == "author_id"
    assert "since_id" not in call.query

    # Next poll: since_id is the cursor, nothing new.
    again = provider.fetch_interactions(credentials, cursor=page.cursor)
    assert again.items == [] and again.cursor == q1
    assert [r for r in fake.requests if r.raw_path.endswith("/mentions")][-1].arg("since_id") == q1
    m2 = fake.add_mention(bob, "@persona_one DM me your rates")
    later = provider.fetch_interactions(credentials, cursor=page.cursor)
    assert [i.external_id for i in later.items] == [m2] and later.cursor == m2


def test_pagination_reads_every_page(
    fake: FakeX, provider: XProvider, credentials: Credentials
) -> None:
    bob = fake.add_user("bob", "Bob")
    ids = [fake.add_mention(bob, f"@persona_one hello number {n}") for n in range(12)]
    # limit is the page size; all 12 arrive through pagination_token, oldest first.
    page = provider.fetch_interactions(credentials, cursor=None, limit=5)
    assert [i.external_id for i in page.items] == ids
    assert page.cursor == ids[-1]
    paged = [r.arg("pagination_token") for r in fake.requests if r.arg("pagination_token")]
    assert paged == ["p5", "p10"]


def test_deleted_author_is_kept_with_partial_data(
    fake: FakeX, provider: XProvider, credentials: Credentials
) -> None:
    ghost = fake.add_user("ghost", "Ghost")
    post = fake.add_mention(ghost, "@persona_one do you consult?")
    fake.delete_user(ghost)
    [item] = provider.fetch_interactions(credentials, cursor=None).items
    assert item.external_id == post
    assert item.author_id == ghost.id
    assert item.author_handle == "" and item.author_name == "deleted account"
    assert item.url == f"https://x.com/i/status/{post}"


def test_bad_cursor_is_dropped_and_mentions_reread(
    fake: FakeX, provider: XProvider, credentials: Credentials
) -> None:
    bob = fake.add_user("bob", "Bob")
    post = fake.add_mention(bob, "@persona_one hi")
    page = provider.fetch_interactions(credentials, cursor="not-an-id")
    assert [i.external_id for i in page.items] == [post]
    assert page.cursor == post


def test_rate_limit_gives_the_reset(
    fake: FakeX, provider: XProvider, credentials: Credentials
) -> None:
    fake.rate_limit_next(path="/2/users/")
    with pytest.raises(errors.RateLimited) as caught:
        provider.fetch_interactions(credentials, cursor=None)
    assert utcnow() < caught.value.retry_at <= utcnow() + timedelta(minutes=15, seconds=5)


def test_missing_scope_and_expired_token(fake: FakeX, provider: XProvider) -> None:
    token = fake.issue_token(scopes=("tweet.write", "users.read"))
    with pytest.raises(ReadBackUnsupported) as unsupported:
        provider.fetch_interactions(
            Credentials(access_token=token, account_id=fake.me.id, scopes=("tweet.write",)),
            cursor=None,
        )
    assert "tweet.read" in unsupported.value.reason
    # A token without the scope at X (scopes unknown locally) gets X's 403 problem.
    with pytest.raises(errors.Permanent):
        provider.fetch_interactions(
            Credentials(access_token=token, account_id=fake.me.id), cursor=None
        )
    good = fake.issue_token()
    fake.expire_token(good)
    with pytest.raises(errors.AuthExpired):
        provider.fetch_interactions(
            Credentials(access_token=good, account_id=fake.me.id), cursor=None
        )


def test_capabilities_say_what_x_gives() -> None:
    assert XProvider.supports_interactions
    assert "800" in XProvider.interactions_note
