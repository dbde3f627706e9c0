"""Anthropic's Messages API through the official ``anthropic`` SDK.

The SDK retries 408, 409, 429, 5xx (including 529 overloaded) and connection errors, honouring
``retry-after-ms``/``retry-after``. A refusal is ``stop_reason == "refusal"``; only ``text``
content blocks count as the answer.
"""

from __future__ import annotations

from typing import Any, ClassVar

import anthropic
from anthropic.types import Message

from digipersona.exceptions import DigipersonaError
from digipersona.generation import errors
from digipersona.generation.base import LLMConfig, Usage
from digipersona.generation.providers.chat import ChatProvider, require_model
from digipersona.generation.providers.openai import _retry_after

DEFAULT_BASE_URL = "https://api.anthropic.com"


class AnthropicProvider(ChatProvider):
    """Drafts through the Messages API."""

    name: ClassVar[str] = "anthropic"

    def __init__(
        self, config: LLMConfig, *, http_client: anthropic.DefaultHttpxClient | None = None
    ) -> None:
        super().__init__(model=require_model(config, "claude-sonnet-4-5"))
        self.config = config
        self.base_url = (config.base_url or DEFAULT_BASE_URL).rstrip("/")
        if not config.api_key:
            raise errors.AIConfigError(
                f"The anthropic provider needs an API key: set {errors.KEY_SETTING}."
            )
        self._client = anthropic.Anthropic(
            api_key=config.api_key,
            base_url=self.base_url,
            timeout=config.timeout_seconds,
            max_retries=config.max_retries,
            http_client=http_client,
            # The API reference documents the key in ``x-api-key``; SDK 2.x sends it only as a
            # Bearer token, which Anthropic-compatible gateways may not accept. Send both.
            default_headers={"x-api-key": config.api_key},
        )

    def close(self) -> None:
        """Close the SDK's connection pool."""
        self._client.close()

    def _complete(
        self, system: str, user: str, *, max_tokens: int, seed: int | None, json_post: bool = False
    ) -> str:
        # The Messages API has no seed parameter; drafts from a seed vary only by prompt.
        try:
            message = self._client.messages.create(
                model=self.model,
                max_tokens=max_tokens,
                system=system,
                messages=[{"role": "user", "content": user}],
            )
        except anthropic.APIStatusError as exc:
            raise self._status_error(exc) from exc
        except anthropic.APITimeoutError as exc:
            raise errors.timeout(
                self.name, self.config.timeout_seconds, self.config.max_retries
            ) from exc
        except anthropic.APIConnectionError as exc:
            raise errors.unreachable(self.name, self.base_url, self.config.max_retries) from exc
        except anthropic.AnthropicError as exc:
            raise errors.malformed(self.name, errors.short(exc)) from exc
        except (ValueError, TypeError) as exc:
            # The SDK parses the body after its retries; a non-JSON 200 surfaces as ValueError.
            raise errors.malformed(self.name, "the body is not valid JSON") from exc
        return self._read(message)

    def _read(self, message: object) -> str:
        if not isinstance(message, Message):
            raise errors.malformed(self.name, "not a message")
        try:
            stop_reason = message.stop_reason
            blocks = list(message.content)
            texts = [
                str(getattr(block, "text", ""))
                for block in blocks
                if getattr(block, "type", None) == "text"
            ]
            usage = message.usage
            self.usage.append(
                Usage(
                    tokens_in=int(getattr(usage, "input_tokens", 0) or 0),
                    tokens_out=int(getattr(usage, "output_tokens", 0) or 0),
                )
            )
        except (AttributeError, TypeError) as exc:
            raise errors.malformed(self.name, "missing fields") from exc
        text = "".join(texts)
        if stop_reason == "refusal":
            raise errors.refused(self.name, text or None)
        if not text.strip():
            raise errors.empty(self.name)
        return text

    def _status_error(self, exc: anthropic.APIStatusError) -> DigipersonaError:
        body: Any = exc.body if isinstance(exc.body, dict) else {}
        detail = body.get("error") if isinstance(body.get("error"), dict) else {}
        kind = detail.get("type") if isinstance(detail.get("type"), str) else None
        message = detail.get("message") if isinstance(detail.get("message"), str) else None
        return errors.status_error(
            provider=self.name,
            model=self.model,
            base_url=self.base_url,
            status=exc.status_code,
            code="model_not_found"
            if kind == "not_found_error" and message and "model" in message
            else kind,
            message=message,
            retry_after=_retry_after(exc.response.headers),
            retries=self.config.max_retries,
        )
