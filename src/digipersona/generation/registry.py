"""The explicit provider registry: ``get_provider`` turns the operator's config into a provider."""

from __future__ import annotations

from typing import Any, Protocol

from digipersona.generation.base import GenerationProvider, LLMConfig
from digipersona.generation.errors import PROVIDER_SETTING, AIConfigError


class ProviderFactory(Protocol):
    """What the registry stores: a provider class taking the config and an optional HTTP client."""

    def __call__(self, config: LLMConfig, *, http_client: Any = None) -> GenerationProvider: ...


def _template(config: LLMConfig, *, http_client: Any = None) -> GenerationProvider:
    from digipersona.generation.providers.template import TemplateProvider

    return TemplateProvider(config)


def _openai(config: LLMConfig, *, http_client: Any = None) -> GenerationProvider:
    from digipersona.generation.providers.openai import OpenAIProvider

    return OpenAIProvider(config, http_client=http_client)


def _anthropic(config: LLMConfig, *, http_client: Any = None) -> GenerationProvider:
    from digipersona.generation.providers.anthropic import AnthropicProvider

    return AnthropicProvider(config, http_client=http_client)


# One line per provider; imports are local so an SDK problem cannot break the others.
PROVIDERS: dict[str, ProviderFactory] = {
    "template": _template,
    "openai": _openai,
    "anthropic": _anthropic,
}


def provider_names() -> list[str]:
    """Every registered provider name, default first."""
    return list(PROVIDERS)


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    getter = getattr(value, "get_secret_value", None)
    text = str(getter() if callable(getter) else value).strip()
    return text or None


def config_from_settings(settings: Any) -> LLMConfig:
    """Build an ``LLMConfig`` from anything with ``llm_*`` attributes (the app ``Settings``)."""
    return LLMConfig(
        provider=str(getattr(settings, "llm_provider", None) or "template"),
        base_url=getattr(settings, "llm_base_url", None) or None,
        api_key=_secret(getattr(settings, "llm_api_key", None)),
        model=getattr(settings, "llm_model", None) or None,
        timeout_seconds=float(getattr(settings, "llm_timeout_seconds", None) or 30.0),
        max_retries=int(getattr(settings, "llm_max_retries", 2)),
        draft_max_tokens=int(getattr(settings, "llm_draft_max_tokens", None) or 1024),
    )


# The choices of a workspace's AI settings page; each maps onto a registered provider.
WORKSPACE_PROVIDERS: dict[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "ollama": "openai",
    "openai_compatible": "openai",
    "template": "template",
}
OLLAMA_BASE_URL = "http://127.0.0.1:11434/v1"


def guarded_client(config: LLMConfig) -> Any:
    """A fresh outbound-guarded HTTP client for a workspace's own base URL (the provider closes
    it), or None for the installation default."""
    if config.allowed_networks is None:
        return None
    from digipersona.kit.outbound import GuardedClient

    return GuardedClient(config.allowed_networks, timeout=config.timeout_seconds)


def get_provider(config: LLMConfig | Any = None, *, http_client: Any = None) -> GenerationProvider:
    """Return the configured provider; ``template`` when nothing is configured.

    ``config`` is an ``LLMConfig`` or a settings-like object with ``llm_*`` attributes.
    ``http_client`` (an ``httpx2.Client``, which the SDKs require) is handed to SDK providers,
    mainly so tests and proxies can inject transports; the SDK makes its own otherwise.
    """
    if config is None:
        config = LLMConfig()
    elif not isinstance(config, LLMConfig):
        config = config_from_settings(config)
    factory = PROVIDERS.get(config.provider)
    if factory is None:
        raise AIConfigError(
            f"Unknown AI provider {config.provider!r}: set {PROVIDER_SETTING} to one of "
            f"{', '.join(PROVIDERS)}."
        )
    if http_client is None:
        http_client = guarded_client(config)
    return factory(config, http_client=http_client)
