"""X provider against the loopback fake (platform-apis section 1)."""

from __future__ import annotations

import base64
import hashlib
import secrets
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
    ReplyTarget,
)
from digipersona.platforms.x import schemas
from digipersona.platforms.x.provider import XProvider, estimate_cost_usd
from tests.fakes.x import FakeX
from tests.platforms.x.conftest import make_provider

REDIRECT = "https://app.example/connections/x/callback"


def _request(*parts: str, **kwargs: Any) -> PublishRequest:
    kwargs.setdefault("created_at", utcnow())
    return PublishRequest(parts=list(parts), idempotency_key=str(uuid.uuid4()), **kwargs)


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _consent(http: httpx.Client, provider: XProvider, challenge: str) -> str:
    url = provider.authorization_url(state="st", redirect_uri=REDIRECT, code_challenge=challenge)
    answer = http.get(url)
    assert answer.status_code == 302, answer.text
    return parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]


def _creates(fake: FakeX) -> list[Any]:
    return [r for r in fake.requests if r.method == "POST" and r.raw_path == "/2/tweets"]


# -- connecting -------------------------------------------------------------------------------
def test_connect_flow_with_pkce(fake: FakeX, http: httpx.Client, provider: XProvider) -> None:
    verifier, challenge = _pkce()
    url = provider.authorization_url(state="st", redirect_uri=REDIRECT, code_challenge=challenge)
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["scope"] == ["tweet.read tweet.write users.read offline.access media.write"]
    code = _consent(http, provider, challenge)
    tokens = provider.exchange_code(code=code, redirect_uri=REDIRECT, code_verifier=verifier)
    token_call = fake.requests[-1]
    assert parse_qs(token_call.body.decode())["client_id"] == ["x-client"]  # public client
    assert token_call.header("Authorization") is None
    assert tokens.refresh_token
    assert set(tokens.scopes) == set(XProvider.scopes)
    assert tokens.expires_at is not None
    assert timedelta(hours=1, minutes=59) < tokens.expires_at - utcnow() <= timedelta(hours=2)
    profile = provider.profile(Credentials(access_token=tokens.access_token))
    assert (profile.account_id, profile.handle) == (fake.me.id, "persona_one")
    assert profile.url == "https://x.com/persona_one"


def test_confidential_clients_use_basic_auth(http: httpx.Client) -> None:
    with FakeX(client_secret="shh").running() as fake:
        provider = make_provider(fake, http)
        verifier, challenge = _pkce()
        code = _consent(http, provider, challenge)
        provider.exchange_code(code=code, redirect_uri=REDIRECT, code_verifier=verifier)
        assert (fake.requests[-1].header("Authorization") or "").startswith("Basic ")
        wrong = make_provider(fake, http, client_secret="nope")
        code = _consent(http, wrong, challenge)
        with pytest.raises(errors.ConfigurationError) as caught:
            wrong.exchange_code(code=code, redirect_uri=REDIRECT, code_verifier=verifier)
        assert caught.value.setting == "DIGIPERSONA_X_CLIENT_SECRET"


def test_a_wrong_verifier_is_refused(http: httpx.Client, provider: XProvider) -> None:
    _, challenge = _pkce()
    other_verifier, _ = _pkce()
    code = _consent(http, provider, challenge)
    with pytest.raises(errors.Permanent, match="start connecting again"):
        provider.exchange_code(code=code, redirect_uri=REDIRECT, code_verifier=other_verifier)


def test_a_code_older_than_30_seconds_is_refused(
    fake: FakeX, http: httpx.Client, provider: XProvider
) -> None:
    verifier, challenge = _pkce()
    code = _consent(http, provider, challenge)
    fake.clock = lambda: datetime.now(UTC) + timedelta(seconds=31)
    with pytest.raises(errors.Permanent, match="30 seconds"):
        provider.exchange_code(code=code, redirect_uri=REDIRECT, code_verifier=verifier)


def test_pkce_is_required(provider: XProvider) -> None:
    with pytest.raises(ValueError, match="PKCE"):
        provider.authorization_url(state="s", redirect_uri=REDIRECT, code_challenge=None)


def test_refresh_rotates_and_a_used_refresh_token_is_dead(
    http: httpx.Client, provider: XProvider
) -> None:
    verifier, challenge = _pkce()
    tokens = provider.exchange_code(
        code=_consent(http, provider, challenge), redirect_uri=REDIRECT, code_verifier=verifier
    )
    old = Credentials(access_token=tokens.access_token, refresh_token=tokens.refresh_token)
    fresh = provider.refresh(old)
    assert fresh.refresh_token and fresh.refresh_token != tokens.refresh_token
    provider.profile(Credentials(access_token=fresh.access_token))
    with pytest.raises(errors.AuthExpired, match="reconnect"):
        provider.refresh(old)


def test_revoke(provider: XProvider, credentials: Credentials) -> None:
    provider.revoke(credentials)
    with pytest.raises(errors.AuthExpired):
        provider.profile(credentials)


# -- publishing -------------------------------------------------------------------------------
def test_text_post(fake: FakeX, provider: XProvider, credentials: Credentials) -> None:
    result = provider.publish(credentials, _request("Hello X"))
    assert _creates(fake)[-1].json() == {"text": "Hello X"}
    assert isinstance(result.external_id, str) and result.external_id.isdigit()
    assert result.url == f"https://x.com/persona_one/status/{result.external_id}"
    assert fake.tweets[result.external_id]["text"] == "Hello X"


def test_thread_is_a_self_reply_chain(
    fake: FakeX, provider: XProvider, credentials: Credentials
) -> None:
    seen: list[PublishedPart] = []
    result = provider.publish(
        credentials, _request("1/3", "2/3", "3/3", on_part_published=seen.append)
    )
    ids = [p.external_id for p in result.parts]
    assert [fake.tweets[i]["replied_to"] for i in ids] == [None, ids[0], ids[1]]
    assert [c.json().get("reply") for c in _creates(fake)] == [
        None,
        {"in_reply_to_tweet_id": ids[0]},
        {"in_reply_to_tweet_id": ids[1]},
    ]
    assert [p.index for p in seen] == [0, 1, 2]


def test_images_are_uploaded_with_alt_text(
    fake: FakeX, provider: XProvider, credentials: Credentials
) -> None:
    media = [
        MediaItem(data=b"one", mime_type="image/png", alt_text="First"),
        MediaItem(data=b"two", mime_type="image/jpeg"),
    ]
    result = provider.publish(credentials, _request("Pictures", "and a reply", media=media))
    first = fake.tweets[result.external_id]
    assert [fake.media[m]["data"] for m in first["media_ids"]] == [b"one", b"two"]
    assert [fake.media[m]["alt_text"] for m in first["media_ids"]] == ["First", None]
    assert fake.tweets[result.parts[1].external_id]["media_ids"] == []
    upload = next(r for r in fake.requests if r.raw_path == "/2/media/upload")
    assert upload.multipart()["media_category"][0] == b"tweet_image"


def test_five_images_are_refused_before_uploading(
    fake: FakeX, provider: XProvider, credentials: Credentials
) -> None:
    media = [MediaItem(data=b"x", mime_type="image/png")] * 5
    with pytest.raises(errors.InvalidContent, match="at most 4"):
        provider.publish(credentials, _request("Too many", media=media))
    assert fake.media == {}


def test_weighted_length_is_checked_before_sending(
    fake: FakeX, provider: XProvider, credentials: Credentials
) -> None:
    with pytest.raises(errors.InvalidContent, match="282 characters as X counts"):
        provider.publish(credentials, _request("漢" * 141))
    assert _creates(fake) == []
    long_url = "https://example.com/" + "a" * 300
    provider.publish(credentials, _request("x" * 250 + " " + long_url))  # URL counts 23


def test_the_fake_rejects_what_x_rejects(provider: XProvider, credentials: Credentials) -> None:
    with pytest.raises(errors.InvalidContent, match="additional properties"):
        provider.client.call(
            "POST", "/2/tweets", credentials.access_token, json={"text": "hi", "foo": 1}
        )
    with pytest.raises(errors.InvalidContent, match="too long"):
        provider.client.call(
            "POST", "/2/tweets", credentials.access_token, json={"text": "漢" * 141}
        )


def test_reply_to_a_stranger_who_did_not_summon_us_is_invalid_content(
    fake: FakeX, provider: XProvider, credentials: Credentials
) -> None:
    stranger = fake.add_user("stranger", "Stranger")
    parent = fake.seed_post(stranger, "Hot take")
    with pytest.raises(errors.InvalidContent, match="not been mentioned"):
        provider.publish(credentials, _request("Cold take", reply_to=ReplyTarget(parent)))
    summoning = fake.seed_post(stranger, "What do you think @persona_one?")
    result = provider.publish(credentials, _request("Thanks!", reply_to=ReplyTarget(summoning)))
    assert fake.tweets[result.external_id]["replied_to"] == summoning


def test_a_duplicate_of_our_own_attempt_resolves_to_it(
    fake: FakeX, provider: XProvider, credentials: Credentials
) -> None:
    created = utcnow()
    first = provider.publish(credentials, _request("Once only", created_at=created))
    again = provider.publish(credentials, _request("Once only", created_at=created))
    assert again.external_id == first.external_id
    assert len(fake.live_posts()) == 1


def test_a_duplicate_of_an_older_post_is_invalid_content(
    fake: FakeX, provider: XProvider, credentials: Credentials
) -> None:
    fake.seed_post(fake.me, "Said it before")
    later = utcnow() + timedelta(minutes=10)
    with pytest.raises(errors.InvalidContent, match="Change the text"):
        provider.publish(credentials, _request("Said it before", created_at=later))


def test_a_resumed_thread_does_not_repeat_a_part_that_landed(
    fake: FakeX, provider: XProvider, credentials: Credentials
) -> None:
    request = _request("Part A", "Part B", "Part C")
    first = provider.publish(credentials, _request("Part A", created_at=request.created_at))
    # Part B landed but its id was never recorded (the worker died after sending it).
    provider.client.call(
        "POST",
        "/2/tweets",
        credentials.access_token,
        json={"text": "Part B", "reply": {"in_reply_to_tweet_id": first.external_id}},
    )
    resumed = PublishRequest(
        parts=request.parts,
        idempotency_key=request.idempotency_key,
        created_at=request.created_at,
        already_published=first.parts,
    )
    result = provider.publish(credentials, resumed)
    texts = sorted(t["text"] for t in fake.live_posts())
    assert texts == ["Part A", "Part B", "Part C"]
    ids = [p.external_id for p in result.parts]
    assert [fake.tweets[i]["replied_to"] for i in ids] == [None, ids[0], ids[1]]


def test_lookup_finds_a_whole_thread_and_nothing_less(
    fake: FakeX, provider: XProvider, credentials: Credentials
) -> None:
    request = _request("Look 1", "Look 2", "Look 3")
    result = provider.publish(credentials, request)
    found = provider.lookup(credentials, request)
    assert found is not None
    assert [p.external_id for p in found.parts] == [p.external_id for p in result.parts]
    provider.delete(credentials, result.parts[2].external_id)
    assert provider.lookup(credentials, request) is None


def test_lookup_matches_through_tco_and_html_escaping(
    fake: FakeX, provider: XProvider, credentials: Credentials
) -> None:
    text = "Q&A <live> at https://example.com/a/long/path and example.org"
    request = _request(text)
    result = provider.publish(credentials, request)
    shown, _ = fake.render(text)
    assert "&amp;" in shown and "https://t.co/" in shown and "example.com" not in shown
    found = provider.lookup(credentials, request)
    assert found is not None and found.external_id == result.external_id


def test_lookup_pages_through_the_timeline(
    fake: FakeX, http: httpx.Client, credentials: Credentials
) -> None:
    provider = make_provider(fake, http)
    request = _request("Buried")
    result = provider.publish(credentials, request)
    for n in range(120):
        fake.seed_post(fake.me, f"noise {n}")
    found = provider.lookup(credentials, request)
    assert found is not None and found.external_id == result.external_id
    pages = [r for r in fake.requests if r.raw_path.endswith("/tweets") and r.method == "GET"]
    assert pages[-1].arg("pagination_token") == "p100"


def test_lookup_against_the_renamed_spec(http: httpx.Client) -> None:
    with FakeX(spec="2.167").running() as fake:
        creds = Credentials(access_token=fake.issue_token(), account_id=fake.me.id)
        classic = make_provider(fake, http)
        request = _request("Renamed 1", "Renamed 2")
        classic.publish(creds, request)
        with pytest.raises(errors.InvalidContent, match="query parameters"):
            classic.lookup(creds, request)
        renamed = make_provider(fake, http, extra={"fields_param": "post.fields"})
        found = renamed.lookup(creds, request)
        assert found is not None and len(found.parts) == 2


def test_both_spellings_of_renamed_fields_parse() -> None:
    classic = {"id": 1, "text": "t", "referenced_tweets": [{"type": "replied_to", "id": 7}]}
    renamed = {"id": "1", "text": "t", "referenced_posts": [{"type": "replied_to", "id": "7"}]}
    assert schemas.parse_tweet_object(classic) == schemas.parse_tweet_object(renamed)
    assert schemas.edit_history_ids({"edit_history_post_ids": [5]}) == ["5"]
    assert schemas.public_metrics({"public_metrics": {"retweet_count": 2}}) == {"repost_count": 2}


def test_delete(fake: FakeX, provider: XProvider, credentials: Credentials) -> None:
    result = provider.publish(credentials, _request("Bye"))
    provider.delete(credentials, result.external_id)
    assert fake.tweets[result.external_id]["deleted"]
    provider.delete(credentials, result.external_id)  # already gone: fine


def test_cost_estimate() -> None:
    assert estimate_cost_usd(["plain"]) == 0.015
    assert estimate_cost_usd(["see example.com", "plain"]) == 0.215


def test_is_configured_needs_a_client_id() -> None:
    assert XProvider.is_configured(ProviderConfig(client_id="a"))
    assert not XProvider.is_configured(ProviderConfig())


# -- error mapping ----------------------------------------------------------------------------
def test_credits_depleted_is_quota_exhausted(
    fake: FakeX, provider: XProvider, credentials: Credentials
) -> None:
    fake.credits_depleted = True
    with pytest.raises(errors.QuotaExhausted, match="credits") as caught:
        provider.publish(credentials, _request("Broke"))
    assert caught.value.retry_at is None
    assert caught.value.status_code == 402


def test_usage_cap_is_quota_exhausted_until_next_month(
    fake: FakeX, provider: XProvider, credentials: Credentials
) -> None:
    fake.usage_capped = True
    with pytest.raises(errors.QuotaExhausted) as caught:
        provider.publish(credentials, _request("Capped"))
    now = utcnow()
    assert caught.value.retry_at is not None
    assert caught.value.retry_at.day == 1 and caught.value.retry_at > now


def test_window_429_waits_for_x_rate_limit_reset(
    fake: FakeX, provider: XProvider, credentials: Credentials
) -> None:
    fake.rate_limit_next(path="/2/tweets")
    with pytest.raises(errors.RateLimited) as caught:
        provider.publish(credentials, _request("Slow down"))
    assert caught.value.scope == "user"
    # The x-rate-limit-reset of the 429: the end of the current 15-minute window.
    window_end = fake._window_start() + timedelta(minutes=15)
    assert caught.value.retry_at == window_end
    assert caught.value.retry_at > utcnow()


def test_24_hour_cap_waits_for_its_own_reset(http: httpx.Client) -> None:
    with FakeX(user_daily_posts=1).running() as fake:
        provider = make_provider(fake, http)
        creds = Credentials(access_token=fake.issue_token(), account_id=fake.me.id)
        provider.publish(creds, _request("Only one today"))
        with pytest.raises(errors.RateLimited) as caught:
            provider.publish(creds, _request("One too many"))
    assert caught.value.scope == "daily"
    assert timedelta(hours=23) < caught.value.retry_at - utcnow() <= timedelta(hours=24)


def test_an_expired_token_is_auth_expired(
    fake: FakeX, provider: XProvider, credentials: Credentials
) -> None:
    fake.expire_token(credentials.access_token)
    with pytest.raises(errors.AuthExpired):
        provider.publish(credentials, _request("Expired"))


@pytest.mark.parametrize(
    ("status", "expected"), [(500, errors.UnknownOutcome), (503, errors.Transient)]
)
def test_5xx_on_create(
    fake: FakeX,
    provider: XProvider,
    credentials: Credentials,
    status: int,
    expected: type[Exception],
) -> None:
    fake.fail_next(status, method="POST", path="/2/tweets")
    with pytest.raises(expected):
        provider.publish(credentials, _request("Server trouble"))
