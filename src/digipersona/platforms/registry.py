"""The explicit provider registry: adding a network is one folder plus one line here."""

from __future__ import annotations

from digipersona.platforms.base import Provider

PROVIDERS: dict[str, type[Provider]] = {}


def register(cls: type[Provider]) -> type[Provider]:
    """Add a provider class to the registry (used by the lines below and by tests)."""
    PROVIDERS[cls.name] = cls
    return cls


def get_provider_class(name: str) -> type[Provider]:
    """Return the provider class for a platform id, or raise ``KeyError``."""
    _load_builtin()
    return PROVIDERS[name]


def platform_ids() -> list[str]:
    """All registered platform ids, in a stable order."""
    _load_builtin()
    return sorted(PROVIDERS)


def _load_builtin() -> None:
    if PROVIDERS:
        return
    # One line per network. Imports are local so a broken optional provider cannot break others.
    from digipersona.platforms.bluesky.provider import BlueskyProvider
    from digipersona.platforms.linkedin.provider import LinkedInProvider
    from digipersona.platforms.webhook.provider import WebhookProvider
    from digipersona.platforms.x.provider import XProvider

    for cls in (LinkedInProvider, XProvider, BlueskyProvider, WebhookProvider):
        register(cls)
