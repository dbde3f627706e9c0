"""LinkedIn read-back: comments on recent posts, only with r_member_social (platform-apis 3.6)."""

from __future__ import annotations

import uuid

import pytest

from digipersona.kit.time import utcnow
from digipersona.platforms import errors
from digipersona.platforms.base import Credentials, PublishRequest, ReadBackUnsupported
from digipersona.platforms.linkedin.provider import LinkedInProvider
from tests.fakes.linkedin import FakeLinkedIn

READ = ("openid", "profile", "email", "w_member_social", "r_member_social")


def _post(provider: LinkedInProvider, credentials: Credentials, text: str) -> str:
    request = PublishRequest(parts=[text], idempotency_key=uuid.uuid4().hex, created_at=utcnow())
    return provider.publish(credentials, request).external_id


def test_comments_of_others_with_cursor(fake: FakeLinkedIn, provider: LinkedInProvider) -> None:
    credentials = Credentials(
        access_token=fake.issue_token(scopes=READ), account_id=fake.consenting.urn
    )
    first = _post(provider, credentials, "First post")
    second = _post(provider, credentials, "Second post")
    silent = _post(provider, credentials, "Nobody comments here")
    bob = fake.add_member("bob1", "Bob Buyer", "bob@example.com")
    c1 = fake.add_comment(
        first, bob, "Do you offer workshops? We need help with our platform team."
    )
    c2 = fake.add_comment(second, bob, "Nice one")
    reply = fake.add_comment(first, bob, "Following up", parent=c1)
    fake.add_comment(first, fake.consenting, "Thanks Bob")  # our own comment is not an interaction

    page = provider.fetch_interactions(
        credentials, cursor=None, recent_posts=[first, second, silent]
    )

    assert {i.external_id for i in page.items} == {c1, c2, reply}
    item = next(i for i in page.items if i.external_id == c1)
    assert item.kind == "comment" and item.author_id == "urn:li:person:bob1"
    assert item.subject_external_id == first
    assert item.reply_target is not None
    assert (item.reply_target.parent_id, item.reply_target.root_id) == (c1, first)
    nested = next(i for i in page.items if i.external_id == reply)
    assert nested.reply_target is not None and nested.reply_target.parent_id == c1
    assert page.cursor is not None and page.cursor.isdigit()
    calls = [r for r in fake.requests if r.method == "GET" and "socialActions" in r.raw_path]
    assert all("%3A" in r.raw_path and r.arg("count") == "100" for r in calls)
    assert all(r.header("LinkedIn-Version") == "202609" for r in calls)

    # Comments at the cursor's millisecond are read again (idempotent storage), newer ones too.
    again = provider.fetch_interactions(
        credentials, cursor=page.cursor, recent_posts=[first, second]
    )
    assert {i.external_id for i in again.items} <= {c1, c2, reply}


def test_without_r_member_social_it_is_unsupported_with_the_reason(
    fake: FakeLinkedIn, provider: LinkedInProvider, credentials: Credentials
) -> None:
    post = _post(provider, credentials, "A post")
    with pytest.raises(ReadBackUnsupported) as caught:
        provider.fetch_interactions(credentials, cursor=None, recent_posts=[post])
    assert "r_member_social" in caught.value.reason
    assert LinkedInProvider.interactions_note == caught.value.reason


def test_no_recent_posts_reads_nothing(fake: FakeLinkedIn, provider: LinkedInProvider) -> None:
    credentials = Credentials(
        access_token=fake.issue_token(scopes=READ), account_id=fake.consenting.urn
    )
    page = provider.fetch_interactions(credentials, cursor="123", recent_posts=[])
    assert page.items == [] and page.cursor == "123"


def test_daily_throttle_is_rate_limited_until_midnight(
    fake: FakeLinkedIn, provider: LinkedInProvider
) -> None:
    credentials = Credentials(
        access_token=fake.issue_token(scopes=READ), account_id=fake.consenting.urn
    )
    post = _post(provider, credentials, "A post")
    fake.rate_limit_next(method="GET", path="/rest/socialActions")
    with pytest.raises(errors.RateLimited) as caught:
        provider.fetch_interactions(credentials, cursor=None, recent_posts=[post])
    assert caught.value.retry_at.hour == 0 and caught.value.retry_at.minute == 0


def test_known_scopes_without_read_access_ask_nothing(
    fake: FakeLinkedIn, provider: LinkedInProvider
) -> None:
    scopes = ("openid", "profile", "email", "w_member_social")
    credentials = Credentials(
        access_token=fake.issue_token(scopes=scopes),
        account_id=fake.consenting.urn,
        scopes=scopes,
    )
    with pytest.raises(ReadBackUnsupported):
        provider.fetch_interactions(credentials, cursor=None, recent_posts=["urn:li:share:1"])
    assert fake.requests == []
