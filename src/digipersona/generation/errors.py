"""The two error classes of the AI layer, and the SDK-exception mapping every provider uses.

Every failure of a generation provider surfaces as one of these (never as an SDK exception):

- ``AIConfigError`` (400, a ``BadRequest``): the operator must change the configuration -- the API
  key was rejected, the model is unknown, the base URL has no such endpoint, a key or model is
  missing, or the configured provider cannot do what was asked (translation offline). The message
  names the ``DIGIPERSONA_LLM_*`` setting to fix. A 400 rather than a 502 because retrying cannot
  help and the fix is on our side of the wire.
- ``AIProviderError`` (502, an ``UpstreamError``): the provider was down, timed out, kept failing
  after the SDK's retries, rate-limited us past the retry budget, or answered with something
  unusable (malformed body, empty text, a refusal). ``extra["reason"]`` holds a short machine
  tag (``timeout``, ``unreachable``, ``server_error``, ``rate_limited``, ``malformed``, ``empty``,
  ``refused``, ``rejected``).
"""

from __future__ import annotations

from typing import Any

from digipersona.exceptions import BadRequest, DigipersonaError, UpstreamError
from digipersona.kit.words import plural

KEY_SETTING = "DIGIPERSONA_LLM_API_KEY"
MODEL_SETTING = "DIGIPERSONA_LLM_MODEL"
URL_SETTING = "DIGIPERSONA_LLM_BASE_URL"
PROVIDER_SETTING = "DIGIPERSONA_LLM_PROVIDER"
TIMEOUT_SETTING = "DIGIPERSONA_LLM_TIMEOUT_SECONDS"

# Upstream messages are echoed to help the operator, but never at unbounded length.
_MAX_DETAIL = 240


class AIConfigError(BadRequest):
    """The AI configuration cannot work; the message names the setting to change."""

    title = "AI provider misconfigured"
    type_slug = "ai-configuration"


class AIProviderError(UpstreamError):
    """The AI provider failed or answered with something unusable."""

    title = "AI provider failed"
    type_slug = "ai-provider-error"

    def __init__(self, message: str, *, reason: str, **kwargs: Any) -> None:
        extra = dict(kwargs.pop("extra", None) or {})
        extra.setdefault("reason", reason)
        super().__init__(message, extra=extra, **kwargs)
        self.reason = reason


def short(text: object) -> str:
    """Return ``text`` as one line, cut to a length fit for an error message."""
    line = " ".join(str(text).split())
    return line if len(line) <= _MAX_DETAIL else line[: _MAX_DETAIL - 1] + "…"


def bad_key(provider: str) -> AIConfigError:
    """The error for a rejected or missing API key."""
    return AIConfigError(
        f"The AI provider ({provider}) rejected the API key: set {KEY_SETTING} to a valid key."
    )


def unknown_model(provider: str, model: str) -> AIConfigError:
    """The error for a model the provider does not serve."""
    return AIConfigError(
        f"The AI provider ({provider}) does not know the model {model!r}: set {MODEL_SETTING} to "
        "a model it serves."
    )


def status_error(
    *,
    provider: str,
    model: str,
    base_url: str,
    status: int,
    code: str | None,
    message: str | None,
    retry_after: float | None,
    retries: int,
) -> DigipersonaError:
    """Map an HTTP error status the SDK gave up on to one of our errors."""
    detail = f": {short(message)}" if message else ""
    if status == 401:
        return bad_key(provider)
    if status == 403:
        return AIConfigError(
            f"The AI provider ({provider}) refused access with this API key{detail}. Check that "
            f"{KEY_SETTING} belongs to a project allowed to use {model!r}."
        )
    if status == 404:
        mentions_model = (code or "") == "model_not_found" or (
            message is not None and "model" in message.lower()
        )
        if mentions_model:
            return unknown_model(provider, model)
        return AIConfigError(
            f"The AI provider has no such endpoint at {base_url!r}{detail}. Check {URL_SETTING} "
            "(OpenAI-compatible servers usually end in /v1)."
        )
    if status == 429:
        if code == "insufficient_quota":
            return AIProviderError(
                f"The AI provider ({provider}) says the account behind {KEY_SETTING} is out of "
                f"quota{detail}. Check its plan and billing.",
                reason="rate_limited",
            )
        wait = f" Try again in {plural(round(retry_after), 'second')}." if retry_after else ""
        return AIProviderError(
            f"The AI provider ({provider}) is rate limiting requests and still was after "
            f"{plural(retries, 'retry', 'retries')}.{wait}",
            reason="rate_limited",
            extra={"retry_after": retry_after} if retry_after else None,
        )
    if status >= 500:
        return AIProviderError(
            f"The AI provider ({provider}) failed with HTTP {status} after "
            f"{plural(retries, 'retry', 'retries')}"
            f"{detail}. Try again later.",
            reason="server_error",
        )
    return AIProviderError(
        f"The AI provider ({provider}) rejected the request with HTTP {status}{detail}.",
        reason="rejected",
    )


def timeout(provider: str, seconds: float, retries: int) -> AIProviderError:
    """The error for a provider that did not answer in time."""
    return AIProviderError(
        f"The AI provider ({provider}) did not answer within {plural(seconds, 'second')} "
        f"({plural(retries, 'retry', 'retries')}). Try again, or raise {TIMEOUT_SETTING} for "
        "slow local models.",
        reason="timeout",
    )


def unreachable(provider: str, base_url: str, retries: int) -> AIProviderError:
    """The error for a provider that could not be connected to."""
    return AIProviderError(
        f"Could not reach the AI provider ({provider}) at {base_url!r} "
        f"({plural(retries, 'retry', 'retries')}). "
        f"Check {URL_SETTING} and that the server is running.",
        reason="unreachable",
    )


def malformed(provider: str, what: str) -> AIProviderError:
    """The error for a reply that does not have the documented shape."""
    return AIProviderError(
        f"The AI provider ({provider}) sent a malformed reply ({what}). Check that "
        f"{URL_SETTING} points at the provider's API, then try again.",
        reason="malformed",
    )


def empty(provider: str) -> AIProviderError:
    """The error for a reply without usable text."""
    return AIProviderError(
        f"The AI provider ({provider}) answered with no text. Try again, or rephrase the brief.",
        reason="empty",
    )


def refused(provider: str, why: str | None) -> AIProviderError:
    """The error for a model that declined to write the text."""
    detail = f": {short(why)}" if why else "."
    return AIProviderError(
        f"The AI model ({provider}) declined to write this{detail} Rephrase the brief and try "
        "again.",
        reason="refused",
    )
