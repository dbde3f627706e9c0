"""LinkedIn provider against the loopback fake (platform-apis section 3)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from digipersona.kit.time import utcnow
from digipersona.platforms import errors
from digipersona.platforms.base import (
    Credentials,
    MediaItem,
    ProviderConfig,
    PublishedPart,
    PublishRequest,
)
from digipersona.platforms.linkedin import littletext
from digipersona.platforms.linkedin.provider import LinkedInProvider
from tests.fakes.linkedin import FakeLinkedIn, read_little_text
from tests.platforms.linkedin.conftest import make_provider

REDIRECT = "https://app.example/connections/linkedin/callback"


def _request(*parts: str, **kwargs: Any) -> PublishRequest:
    return PublishRequest(
        parts=list(parts), idempotency_key=str(uuid.uuid4()), created_at=utcnow(), **kwargs
    )


def _consent(http: httpx.Client, provider: LinkedInProvider) -> str:
    url = provider.authorization_url(state="st-1", redirect_uri=REDIRECT, code_challenge=None)
    answer = http.get(url)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["state"] == ["st-1"]
    return query["code"][0]


def _posts(fake: FakeLinkedIn) -> list[Any]:
    return [r for r in fake.requests if r.method == "POST" and r.raw_path == "/rest/posts"]


# -- connecting -------------------------------------------------------------------------------
def test_connect_flow_gives_a_60_day_token_and_the_member_urn(
    fake: FakeLinkedIn, http: httpx.Client, provider: LinkedInProvider
) -> None:
    url = provider.authorization_url(state="s", redirect_uri=REDIRECT, code_challenge=None)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{fake.url}/oauth/v2/authorization?")
    assert query["scope"] == ["openid profile email w_member_social"]
    assert "code_challenge" not in query
    tokens = provider.exchange_code(
        code=_consent(http, provider), redirect_uri=REDIRECT, code_verifier=None
    )
    form = parse_qs(fake.requests[-1].body.decode())
    assert form["client_secret"] == [fake.client_secret]
    assert tokens.scopes == ("email", "openid", "profile", "w_member_social")
    assert tokens.refresh_token is None
    assert tokens.expires_at is not None
    assert timedelta(days=59) < tokens.expires_at - utcnow() <= timedelta(days=60)
    profile = provider.profile(Credentials(access_token=tokens.access_token))
    assert profile.account_id == "urn:li:person:782bbtaQ"
    assert profile.handle == profile.display_name == "Ada Lovelace"


def test_a_code_works_once(http: httpx.Client, provider: LinkedInProvider) -> None:
    code = _consent(http, provider)
    provider.exchange_code(code=code, redirect_uri=REDIRECT, code_verifier=None)
    with pytest.raises(errors.Permanent, match="start connecting again"):
        provider.exchange_code(code=code, redirect_uri=REDIRECT, code_verifier=None)


def test_an_expired_code_is_refused(
    fake: FakeLinkedIn, http: httpx.Client, provider: LinkedInProvider
) -> None:
    code = _consent(http, provider)
    fake.clock = lambda: datetime.now(UTC) + timedelta(minutes=31)
    with pytest.raises(errors.Permanent):
        provider.exchange_code(code=code, redirect_uri=REDIRECT, code_verifier=None)


def test_a_wrong_client_secret_names_the_setting(fake: FakeLinkedIn, http: httpx.Client) -> None:
    provider = make_provider(fake, http, client_secret="wrong")
    code = _consent(http, provider)
    with pytest.raises(errors.ConfigurationError) as caught:
        provider.exchange_code(code=code, redirect_uri=REDIRECT, code_verifier=None)
    assert caught.value.setting == "DIGIPERSONA_LINKEDIN_CLIENT_SECRET"


def test_refresh_without_a_refresh_token_asks_for_a_reconnect(
    fake: FakeLinkedIn, provider: LinkedInProvider, credentials: Credentials
) -> None:
    before = len(fake.requests)
    with pytest.raises(errors.AuthExpired, match="reconnect"):
        provider.refresh(credentials)
    assert len(fake.requests) == before


def test_partner_apps_refresh(http: httpx.Client) -> None:
    with FakeLinkedIn(partner=True).running() as fake:
        provider = make_provider(fake, http)
        tokens = provider.exchange_code(
            code=_consent(http, provider), redirect_uri=REDIRECT, code_verifier=None
        )
        assert tokens.refresh_token
        fresh = provider.refresh(
            Credentials(access_token=tokens.access_token, refresh_token=tokens.refresh_token)
        )
        assert fresh.access_token != tokens.access_token
        assert fresh.refresh_token == tokens.refresh_token
        assert "refresh_token_expires_at" in fresh.extra


def test_revoke_kills_the_token(provider: LinkedInProvider, credentials: Credentials) -> None:
    provider.revoke(credentials)
    with pytest.raises(errors.AuthExpired):
        provider.profile(credentials)


def test_is_configured_needs_id_and_secret() -> None:
    assert LinkedInProvider.is_configured(ProviderConfig(client_id="a", client_secret="b"))
    assert not LinkedInProvider.is_configured(ProviderConfig(client_id="a"))


# -- publishing -------------------------------------------------------------------------------
def test_text_post_sends_the_versioned_headers_and_body(
    fake: FakeLinkedIn, provider: LinkedInProvider, credentials: Credentials
) -> None:
    result = provider.publish(credentials, _request("Hello LinkedIn"))
    sent = _posts(fake)[-1]
    assert sent.header("LinkedIn-Version") == "202609"
    assert sent.header("X-Restli-Protocol-Version") == "2.0.0"
    assert sent.json() == {
        "author": "urn:li:person:782bbtaQ",
        "commentary": "Hello LinkedIn",
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }
    assert result.external_id.startswith("urn:li:share:")
    assert result.url == f"https://www.linkedin.com/feed/update/{result.external_id}/"
    assert fake.posts[result.external_id]["text"] == "Hello LinkedIn"


TRICKY = "Big news (finally) for C++_devs <3 ~ *really* [beta] @team a\\b {x|y} #launch #1"


def test_escaping_keeps_every_reserved_character(
    fake: FakeLinkedIn, provider: LinkedInProvider, credentials: Credentials
) -> None:
    result = provider.publish(credentials, _request(TRICKY))
    assert fake.posts[result.external_id]["text"] == TRICKY
    commentary = _posts(fake)[-1].json()["commentary"]
    assert "#launch" in commentary and "\\#launch" not in commentary  # still a hashtag
    assert "\\#1" in commentary  # "#1" is a number, not a tag


def test_the_fake_truncates_unescaped_text_like_linkedin(
    fake: FakeLinkedIn, provider: LinkedInProvider, credentials: Credentials
) -> None:
    # Proves the escaping test above can fail: raw commentary is cut at the first "(".
    response = provider.client.rest(
        "POST",
        "posts",
        credentials.access_token,
        json={
            "author": credentials.account_id,
            "commentary": TRICKY,
            "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED"},
            "lifecycleState": "PUBLISHED",
        },
    )
    assert response.status_code == 201
    assert fake.posts[response.headers["x-restli-id"]]["text"] == "Big news "


def test_little_text_round_trips_through_the_reader() -> None:
    for text in (TRICKY, "plain", "#tag_with_under", "email@example.com (me)", "\\"):
        assert read_little_text(littletext.escape(text))[1] == text
    assert littletext.mention("A (B)", "urn:li:person:1") == "@[A \\(B\\)](urn:li:person:1)"


def test_length_is_counted_after_escaping(
    fake: FakeLinkedIn, provider: LinkedInProvider, credentials: Credentials
) -> None:
    fits = "a" * 2990 + "()()()()()"[:5]  # 2995 chars -> 3000 after escaping
    assert littletext.commentary_length(fits) == 3000
    provider.publish(credentials, _request(fits))
    too_long = "a" * 2990 + "()()()"  # 2996 chars -> 3002 after escaping
    before = len(fake.requests)
    with pytest.raises(errors.InvalidContent, match="3002 characters after escaping"):
        provider.publish(credentials, _request(too_long))
    assert len(fake.requests) == before


def test_one_image_goes_in_content_media_with_alt_text(
    fake: FakeLinkedIn, provider: LinkedInProvider, credentials: Credentials
) -> None:
    image = MediaItem(data=b"\x89PNG-bytes", mime_type="image/png", alt_text="A chart")
    result = provider.publish(credentials, _request("With a chart", media=[image]))
    content = fake.posts[result.external_id]["content"]
    urn = content["media"]["id"]
    assert content == {"media": {"id": urn, "altText": "A chart"}}
    assert fake.images[urn]["data"] == b"\x89PNG-bytes"
    assert fake.images[urn]["status"] == "AVAILABLE"


def test_several_images_go_in_multi_image(
    fake: FakeLinkedIn, provider: LinkedInProvider, credentials: Credentials
) -> None:
    media = [MediaItem(data=bytes([n]) * 10, mime_type="image/jpeg") for n in range(3)]
    result = provider.publish(credentials, _request("Three", media=media))
    images = fake.posts[result.external_id]["content"]["multiImage"]["images"]
    assert [fake.images[i["id"]]["data"] for i in images] == [m.data for m in media]


def test_too_many_images_are_refused_before_uploading(
    fake: FakeLinkedIn, provider: LinkedInProvider, credentials: Credentials
) -> None:
    media = [MediaItem(data=b"x", mime_type="image/png")] * 21
    with pytest.raises(errors.InvalidContent, match="at most 20"):
        provider.publish(credentials, _request("Too many", media=media))
    assert fake.images == {}


def test_a_link_becomes_an_article_card(
    fake: FakeLinkedIn, provider: LinkedInProvider, credentials: Credentials
) -> None:
    request = _request(
        "Read this https://example.com/post",
        link="https://example.com/post",
        link_title="The post",
        link_description="Why it matters",
    )
    result = provider.publish(credentials, request)
    assert fake.posts[result.external_id]["content"] == {
        "article": {
            "source": "https://example.com/post",
            "title": "The post",
            "description": "Why it matters",
        }
    }


def test_thread_parts_become_plain_text_comments_in_order(
    fake: FakeLinkedIn, provider: LinkedInProvider, credentials: Credentials
) -> None:
    seen: list[PublishedPart] = []
    request = _request("Main (post)", "More (1)", "More #2", on_part_published=seen.append)
    result = provider.publish(credentials, request)
    comments = fake.comments_on(result.external_id)
    # Comments are plain text: no little-text escaping (checklist 18).
    assert [c["message"]["text"] for c in comments] == ["More (1)", "More #2"]
    assert [p.external_id for p in result.parts[1:]] == [c["commentUrn"] for c in comments]
    assert [p.index for p in seen] == [0, 1, 2]
    encoded = [r.raw_path for r in fake.requests if "/socialActions/" in r.raw_path]
    assert all("urn%3Ali%3Ashare%3A" in path for path in encoded)


def test_a_long_comment_is_refused_before_anything_is_posted(
    fake: FakeLinkedIn, provider: LinkedInProvider, credentials: Credentials
) -> None:
    with pytest.raises(errors.InvalidContent, match="1250"):
        provider.publish(credentials, _request("Main", "x" * 1251))
    assert fake.posts == {}


def test_a_resumed_thread_posts_only_the_missing_comments(
    fake: FakeLinkedIn, provider: LinkedInProvider, credentials: Credentials
) -> None:
    first = provider.publish(credentials, _request("Resumable"))
    request = _request("Resumable", "Part two", already_published=first.parts)
    result = provider.publish(credentials, request)
    assert len(fake.posts) == 1
    assert result.external_id == first.external_id
    assert [c["message"]["text"] for c in fake.comments_on(first.external_id)] == ["Part two"]


def test_duplicate_post_is_recovered_as_already_published(
    fake: FakeLinkedIn, provider: LinkedInProvider, credentials: Credentials
) -> None:
    first = provider.publish(credentials, _request("Only once, please"))
    again = provider.publish(credentials, _request("Only once, please"))
    assert again.external_id == first.external_id
    assert len(fake.live_posts()) == 1
    assert len(_posts(fake)) == 2  # the second attempt was answered 422 DUPLICATE_POST


def test_lookup_proves_only_recorded_urns(
    fake: FakeLinkedIn, provider: LinkedInProvider, credentials: Credentials
) -> None:
    result = provider.publish(credentials, _request("Looked up", "with a comment"))
    assert provider.lookup(credentials, _request("Looked up", "with a comment")) is None
    recorded = _request("Looked up", "with a comment", already_published=result.parts)
    found = provider.lookup(credentials, recorded)
    assert found is not None and found.external_id == result.external_id
    # Only the post recorded: the comment cannot be read without r_member_social.
    partial = _request("Looked up", "with a comment", already_published=result.parts[:1])
    assert provider.lookup(credentials, partial) is None
    reader = Credentials(
        access_token=fake.issue_token(
            scopes=("openid", "profile", "w_member_social", "r_member_social")
        ),
        account_id=credentials.account_id,
    )
    found = provider.lookup(reader, partial)
    assert found is not None
    assert [p.external_id for p in found.parts] == [p.external_id for p in result.parts]


def test_delete_encodes_the_urn_and_tolerates_missing_posts(
    fake: FakeLinkedIn, provider: LinkedInProvider, credentials: Credentials
) -> None:
    result = provider.publish(credentials, _request("Short-lived"))
    provider.delete(credentials, result.external_id)
    assert fake.posts[result.external_id]["deleted"]
    provider.delete(credentials, result.external_id)
    assert fake.requests[-1].raw_path == "/rest/posts/" + result.external_id.replace(":", "%3A")


# -- error mapping ----------------------------------------------------------------------------
def test_a_sunset_version_names_the_setting(
    fake: FakeLinkedIn, http: httpx.Client, credentials: Credentials
) -> None:
    provider = make_provider(fake, http, api_version="202504")
    with pytest.raises(errors.ConfigurationError) as caught:
        provider.publish(credentials, _request("Old version"))
    assert caught.value.setting == "DIGIPERSONA_LINKEDIN_VERSION"
    assert "DIGIPERSONA_LINKEDIN_VERSION" in caught.value.message
    assert caught.value.status_code == 426


def test_a_missing_scope_is_permanent(fake: FakeLinkedIn, provider: LinkedInProvider) -> None:
    reader = Credentials(
        access_token=fake.issue_token(scopes=("openid", "profile")),
        account_id=fake.consenting.urn,
    )
    with pytest.raises(errors.Permanent, match="w_member_social") as caught:
        provider.publish(reader, _request("No scope"))
    assert not isinstance(caught.value, errors.InvalidContent)
    assert caught.value.status_code == 403


def test_an_expired_token_is_auth_expired(
    fake: FakeLinkedIn, provider: LinkedInProvider, credentials: Credentials
) -> None:
    fake.expire_token(credentials.access_token)
    with pytest.raises(errors.AuthExpired):
        provider.publish(credentials, _request("Expired"))


def test_429_waits_for_the_next_utc_midnight(http: httpx.Client, credentials: Credentials) -> None:
    with FakeLinkedIn(member_daily_posts=1).running() as fake:
        provider = make_provider(fake, http)
        creds = Credentials(access_token=fake.issue_token(), account_id=fake.consenting.urn)
        provider.publish(creds, _request("First of the day"))
        with pytest.raises(errors.RateLimited) as caught:
            provider.publish(creds, _request("Second of the day"))
    now = utcnow()
    assert caught.value.scope == "daily"
    assert caught.value.retry_at == datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(
        days=1
    )


@pytest.mark.parametrize(
    ("status", "expected"), [(500, errors.UnknownOutcome), (503, errors.Transient)]
)
def test_5xx_on_the_create_call(
    fake: FakeLinkedIn,
    provider: LinkedInProvider,
    credentials: Credentials,
    status: int,
    expected: type[Exception],
) -> None:
    fake.fail_next(status, method="POST", path="/rest/posts")
    with pytest.raises(expected):
        provider.publish(credentials, _request("Server trouble"))


def test_5xx_on_an_upload_is_transient(
    fake: FakeLinkedIn, provider: LinkedInProvider, credentials: Credentials
) -> None:
    fake.fail_next(500, path="/rest/images")
    image = MediaItem(data=b"x", mime_type="image/png")
    with pytest.raises(errors.Transient) as caught:
        provider.publish(credentials, _request("Upload trouble", media=[image]))
    assert not isinstance(caught.value, errors.UnknownOutcome)
    assert fake.posts == {}


def test_an_unreachable_host_is_transient(http: httpx.Client, credentials: Credentials) -> None:
    provider = LinkedInProvider(
        ProviderConfig(api_url="http://127.0.0.1:9", api_version="202609", timeout_seconds=1),
        http,
    )
    with pytest.raises(errors.Transient):
        provider.publish(credentials, _request("Nobody home"))
