"""Build configured provider instances from Settings (base URLs, app credentials, versions)."""

from __future__ import annotations

import httpx

from digipersona.config import Settings
from digipersona.kit import outbound
from digipersona.platforms.base import Provider, ProviderConfig
from digipersona.platforms.registry import get_provider_class

# What an operator must set for each platform, shown when it is "not configured".
CONFIG_HINTS = {
    "linkedin": "Set DIGIPERSONA_LINKEDIN_CLIENT_ID and DIGIPERSONA_LINKEDIN_CLIENT_SECRET from "
    "your LinkedIn app (products: Sign In with LinkedIn using OpenID Connect, Share on LinkedIn).",
    "x": "Set DIGIPERSONA_X_CLIENT_ID (and DIGIPERSONA_X_CLIENT_SECRET for confidential apps) "
    "from your X developer app with OAuth 2.0 enabled.",
    "bluesky": "Nothing to configure: connect with a handle and an app password.",
    "webhook": "Nothing to configure: give the receiver URL when connecting.",
}


def provider_config(platform: str, settings: Settings) -> ProviderConfig:
    """The ProviderConfig for a platform id."""
    timeout = settings.platform_timeout_seconds
    if platform == "linkedin":
        return ProviderConfig(
            client_id=settings.linkedin_client_id,
            client_secret=settings.linkedin_client_secret.get_secret_value()
            if settings.linkedin_client_secret
            else None,
            api_url=settings.linkedin_api_url.rstrip("/"),
            oauth_url=settings.linkedin_oauth_url.rstrip("/"),
            api_version=settings.linkedin_version,
            timeout_seconds=timeout,
        )
    if platform == "x":
        return ProviderConfig(
            client_id=settings.x_client_id,
            client_secret=settings.x_client_secret.get_secret_value()
            if settings.x_client_secret
            else None,
            api_url=settings.x_api_url.rstrip("/"),
            authorize_url=settings.x_authorize_url,
            timeout_seconds=timeout,
        )
    if platform == "bluesky":
        return ProviderConfig(
            api_url=settings.bluesky_service_url.rstrip("/"), timeout_seconds=timeout
        )
    return ProviderConfig(timeout_seconds=timeout)


def build_provider(platform: str, settings: Settings, http: httpx.Client) -> Provider:
    """An instance of the platform's provider; raises ``KeyError`` for an unknown platform.

    A provider that calls hosts people choose (``Provider.user_chosen_urls``: the webhook target,
    Bluesky) gets the outbound guard's client instead of ``http`` unless ``http`` is guarded.
    """
    cls = get_provider_class(platform)
    config = provider_config(platform, settings)
    if cls.user_chosen_urls:
        http = outbound.guarded(http, settings, timeout=config.timeout_seconds)
    return cls(config, http)
