"""The explicit provider registry: adding a network is one folder plus one line here."""

from __future__ import annotations

import importlib

from digipersona.platforms.base import Provider

# One line per network: platform id -> "module:Class". Imported on first use, so a provider
# whose optional dependency is broken cannot take the others down.
BUILTIN: dict[str, str] = {
    "linkedin": "digipersona.platforms.linkedin.provider:LinkedInProvider",
    "x": "digipersona.platforms.x.provider:XProvider",
    "bluesky": "digipersona.platforms.bluesky.provider:BlueskyProvider",
    "webhook": "digipersona.platforms.webhook.provider:WebhookProvider",
}

PROVIDERS: dict[str, type[Provider]] = {}


def register(cls: type[Provider]) -> type[Provider]:
    """Add a provider class to the registry (used for the built-ins and by tests)."""
    PROVIDERS[cls.name] = cls
    return cls


def get_provider_class(name: str) -> type[Provider]:
    """Return the provider class for a platform id, or raise ``KeyError``."""
    if name not in PROVIDERS and name in BUILTIN:
        module_name, _, class_name = BUILTIN[name].partition(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        register(cls)
    return PROVIDERS[name]


def load_plugins(spec: str) -> list[str]:
    """Register provider classes named in ``DIGIPERSONA_PROVIDER_PLUGINS`` ("mod:Class,...")."""
    loaded = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        module_name, _, class_name = item.partition(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        if not (isinstance(cls, type) and issubclass(cls, Provider)):
            raise TypeError(f"{item} is not a Provider subclass")
        register(cls)
        loaded.append(cls.name)
    return loaded


def platform_ids() -> list[str]:
    """All known platform ids, in a stable order."""
    return sorted(set(BUILTIN) | set(PROVIDERS))
