"""Fixtures for the Bluesky provider: a real PDS on loopback (session-scoped) and accounts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from digipersona.platforms.base import Credentials, Profile, ProviderConfig
from digipersona.platforms.bluesky.provider import BlueskyProvider
from tests.peers.pds_harness import Account, PdsPeer


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def provider(pds: PdsPeer, http: httpx.Client) -> BlueskyProvider:
    return BlueskyProvider(ProviderConfig(api_url=pds.url, timeout_seconds=10), http)


@dataclass(frozen=True)
class Connected:
    """An account connected through the provider with an app password."""

    account: Account
    app_password: str
    credentials: Credentials
    profile: Profile


@pytest.fixture
def connected(pds: PdsPeer, provider: BlueskyProvider) -> Connected:
    account = pds.create_account("alice")
    app_password = pds.create_app_password(account)
    credentials, profile = provider.connect(account.handle, app_password, pds.url)
    return Connected(account, app_password, credentials, profile)
