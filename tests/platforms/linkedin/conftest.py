from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from digipersona.platforms.base import Credentials, ProviderConfig
from digipersona.platforms.linkedin.provider import LinkedInProvider
from tests.fakes.linkedin import FakeLinkedIn


@pytest.fixture
def fake() -> Iterator[FakeLinkedIn]:
    with FakeLinkedIn().running() as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def make_provider(fake: FakeLinkedIn, http: httpx.Client, **overrides: object) -> LinkedInProvider:
    settings: dict[str, object] = {
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "api_url": fake.url,
        "oauth_url": f"{fake.url}/oauth/v2",
        "api_version": "202609",
        "timeout_seconds": 2.0,
    }
    settings.update(overrides)
    return LinkedInProvider(ProviderConfig(**settings), http)  # type: ignore[arg-type]


@pytest.fixture
def provider(fake: FakeLinkedIn, http: httpx.Client) -> LinkedInProvider:
    return make_provider(fake, http)


@pytest.fixture
def credentials(fake: FakeLinkedIn) -> Credentials:
    return Credentials(access_token=fake.issue_token(), account_id=fake.consenting.urn)
