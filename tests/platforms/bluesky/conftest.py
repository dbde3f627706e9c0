"""Fixtures for the Bluesky provider: a real PDS on loopback (session-scoped) and accounts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from digipersona.platforms.base import Credentials, Profile, ProviderConfig
from digipersona.platforms.bluesky.provider import BlueskyProvider
from tests.peers.pds_harness import Account, PdsPeer, find_install, running_peer


@pytest.fixture(scope="session")
def pds() -> Iterator[PdsPeer]:
    """The official PDS (0.4.x) with an in-memory PLC, rate limits on; skips when not installed."""
    install, reason = find_install()
    if install is None:
        pytest.skip(reason)
    yield from running_peer(install)


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
