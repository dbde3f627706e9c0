from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from digipersona.platforms.base import Credentials, ProviderConfig
from digipersona.platforms.x.provider import XProvider
from tests.fakes.x import FakeX


@pytest.fixture
def fake() -> Iterator[FakeX]:
    with FakeX().running() as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def make_provider(fake: FakeX, http: httpx.Client, **overrides: object) -> XProvider:
    settings: dict[str, object] = {
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "api_url": fake.url,
        "authorize_url": f"{fake.url}/i/oauth2/authorize",
        "timeout_seconds": 2.0,
    }
    settings.update(overrides)
    return XProvider(ProviderConfig(**settings), http)  # type: ignore[arg-type]


@pytest.fixture
def provider(fake: FakeX, http: httpx.Client) -> XProvider:
    return make_provider(fake, http)


@pytest.fixture
def credentials(fake: FakeX) -> Credentials:
    return Credentials(
        access_token=fake.issue_token(),
        account_id=fake.me.id,
        extra={"username": fake.me.username},
    )
