"""The X and LinkedIn metrics read-back against the fakes (platform-apis 1.5, 3.6)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from digipersona.platforms.base import Credentials, ReadBackUnsupported
from tests.fakes.x import FakeX
from tests.platforms.x.conftest import make_provider


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


@pytest.mark.parametrize("spec", ["classic", "2.167"])
def test_x_metrics_both_spellings_batches_and_deleted(spec: str, http: httpx.Client) -> None:
    with FakeX(spec=spec).running() as fake:
        fields_param = "post.fields" if spec == "2.167" else "tweet.fields"
        provider = make_provider(fake, http, extra={"fields_param": fields_param})
        creds = Credentials(access_token=fake.issue_token(), account_id=fake.me.id)
        ids = [fake.seed_post(fake.me, f"post {n}") for n in range(105)]
        fake.set_metrics(ids[0], retweet_count=4, like_count=9, impression_count=77)
        fake.delete_post(ids[1])
        readings = {r.external_id: r for r in provider.fetch_metrics(creds, [*ids, "not-an-id"])}
        calls = [r for r in fake.requests if r.raw_path == "/2/tweets"]
        assert [len((r.arg("ids") or "").split(",")) for r in calls] == [100, 5]
        assert readings[ids[0]].reposts == 4 and readings[ids[0]].likes == 9
        assert readings[ids[0]].impressions == 77
        assert readings[ids[1]].deleted
        assert readings[ids[2]].likes == 0 and not readings[ids[2]].deleted
        assert "not-an-id" not in readings


def test_x_fake_rejects_bad_lookups(http: httpx.Client) -> None:
    with FakeX().running() as fake:
        token = fake.issue_token()
        headers = {"Authorization": f"Bearer {token}"}
        too_many = ",".join(str(10**10 + n) for n in range(101))
        answer = http.get(f"{fake.url}/2/tweets", params={"ids": too_many}, headers=headers)
        assert answer.status_code == 400
        answer = http.get(
            f"{fake.url}/2/tweets", params={"ids": "1", "post.fields": "x"}, headers=headers
        )
        assert answer.status_code == 400  # unknown parameter in classic mode
        answer = http.get(f"{fake.url}/2/tweets", params={"ids": "123"}, headers=headers)
        body = answer.json()
        assert answer.status_code == 200 and "data" not in body
        assert body["errors"][0]["type"].endswith("/problems/resource-not-found")


def test_linkedin_unsupported_without_scope_names_the_permission(http: httpx.Client) -> None:
    from tests.fakes.linkedin import FakeLinkedIn
    from tests.platforms.linkedin.conftest import make_provider as make_li

    with FakeLinkedIn().running() as fake:
        provider = make_li(fake, http)
        creds = Credentials(
            access_token=fake.issue_token(),
            account_id=fake.consenting.urn,
            scopes=("openid", "profile", "email", "w_member_social"),
        )
        with pytest.raises(ReadBackUnsupported) as info:
            provider.fetch_metrics(creds, ["urn:li:share:1"])
        assert "r_member_postAnalytics" in info.value.reason
        # A token whose scope list claims the permission but LinkedIn refuses: same answer.
        claimed = Credentials(
            access_token=fake.issue_token(),
            account_id=fake.consenting.urn,
            scopes=("w_member_social", "r_member_postAnalytics"),
        )
        with pytest.raises(ReadBackUnsupported):
            provider.fetch_metrics(claimed, ["urn:li:share:1"])
