"""The AI generation layer: drafts, suggestions and replies in a persona's voice.

Usage::

    provider = get_provider(LLMConfig(provider="openai", base_url=..., api_key=..., model=...))
    drafts = provider.draft(DraftRequest(persona=profile, brief="...", platforms=["linkedin"]))

Every failure is a ``DigipersonaError``: ``AIConfigError`` (400) or ``AIProviderError`` (502).
"""

from digipersona.generation.base import (
    MAX_DRAFTS,
    PLATFORMS,
    STRUCTURES,
    SUGGESTION_KINDS,
    Draft,
    DraftRequest,
    GenerationCancelled,
    GenerationProvider,
    LLMConfig,
    PersonaProfile,
)
from digipersona.generation.errors import AIConfigError, AIProviderError
from digipersona.generation.registry import config_from_settings, get_provider, provider_names

__all__ = [
    "MAX_DRAFTS",
    "PLATFORMS",
    "STRUCTURES",
    "SUGGESTION_KINDS",
    "AIConfigError",
    "AIProviderError",
    "Draft",
    "DraftRequest",
    "GenerationCancelled",
    "GenerationProvider",
    "LLMConfig",
    "PersonaProfile",
    "config_from_settings",
    "get_provider",
    "provider_names",
]
