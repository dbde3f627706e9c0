"""Any OpenAI-compatible Chat Completions endpoint (OpenAI, Ollama, vLLM, LM Studio).

Uses the official ``openai`` SDK with its own retries (429, 408, 409, 5xx and connection errors,
honouring ``retry-after-ms``/``retry-after``), ``stream=False``. Every call is bounded:
``max_completion_tokens`` for OpenAI itself (its reasoning models reject ``max_tokens``),
``max_tokens`` for compatible servers. Drafts ask for a JSON schema (structured output); a server
that rejects ``response_format`` is asked in plain words from then on. Refusals are
``message.refusal`` or ``finish_reason == "content_filter"``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import openai
from openai.types.chat import ChatCompletion

from digipersona.exceptions import DigipersonaError
from digipersona.generation import errors
from digipersona.generation.base import GenerationCancelled, LLMConfig, Usage
from digipersona.generation.providers.chat import ChatProvider, require_model

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Local servers (Ollama, vLLM, LM Studio) ignore the key, but the SDK insists on one.
_LOCAL_PLACEHOLDER_KEY = "no-key-needed"


class OpenAIProvider(ChatProvider):
    """Drafts through the Chat Completions API."""

    name: ClassVar[str] = "openai"

    def __init__(
        self, config: LLMConfig, *, http_client: openai.DefaultHttpxClient | None = None
    ) -> None:
        super().__init__(model=require_model(config, "gpt-4o-mini"))
        self.config = config
        self.base_url = (config.base_url or DEFAULT_BASE_URL).rstrip("/")
        key = config.api_key
        if not key:
            if config.base_url is None:
                raise errors.AIConfigError(
                    f"The openai provider needs an API key: set {errors.KEY_SETTING} (or set "
                    f"{errors.URL_SETTING} to a local server such as Ollama)."
                )
            key = _LOCAL_PLACEHOLDER_KEY
        self._official = self.base_url == DEFAULT_BASE_URL
        self._format = 0  # index into _FORMATS: the structured output this server accepts
        self._client = openai.OpenAI(
            api_key=key,
            base_url=self.base_url,
            timeout=config.timeout_seconds,
            max_retries=config.max_retries,
            http_client=http_client,
        )

    def close(self) -> None:
        """Close the SDK's connection pool."""
        self._client.close()

    def _complete(
        self, system: str, user: str, *, max_tokens: int, seed: int | None, json_post: bool = False
    ) -> str:
        extra: dict[str, Any] = {}
        if seed is not None:
            extra["seed"] = seed
        # OpenAI's own API bounds with max_completion_tokens (its reasoning models reject
        # max_tokens); OpenAI-compatible servers (Ollama, llama.cpp, vLLM) know max_tokens.
        extra["max_completion_tokens" if self._official else "max_tokens"] = max_tokens
        while True:
            fmt = _FORMATS[self._format] if json_post else None
            if fmt is not None:
                extra["response_format"] = fmt
            else:
                extra.pop("response_format", None)
            try:
                if self.on_text is not None:
                    return self._streamed(system, user, extra)
                completion = self._create(system, user, extra)
            except openai.APIStatusError as exc:
                if fmt is None or not _mentions_format(exc):
                    raise self._status_error(exc) from exc
                # This server does not take this form of structured output (llama.cpp's server
                # answers 500 to json_schema): try the next form, finally plain words.
                self._format += 1
                continue
            return self._read(completion)

    def _create(self, system: str, user: str, extra: dict[str, Any]) -> object:
        try:
            return self._client.chat.completions.create(
                model=self.model,
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": user},
                ],
                stream=False,
                **extra,
            )
        except openai.APIStatusError:
            raise  # mapped by the caller, which may first try another response format
        except openai.APITimeoutError as exc:
            raise errors.timeout(
                self.name, self.config.timeout_seconds, self.config.max_retries
            ) from exc
        except openai.APIConnectionError as exc:
            raise errors.unreachable(self.name, self.base_url, self.config.max_retries) from exc
        except openai.OpenAIError as exc:
            raise errors.malformed(self.name, errors.short(exc)) from exc
        except (ValueError, TypeError) as exc:
            # The SDK parses the body after its retries; a non-JSON 200 surfaces as ValueError.
            raise errors.malformed(self.name, "the body is not valid JSON") from exc

    def _streamed(self, system: str, user: str, extra: dict[str, Any]) -> str:
        """The answer streamed (``stream: true``, server-sent events), each piece handed to
        ``on_text``. Cancelling closes the upstream response at once; the tokens received so
        far are recorded (the server's count when it sends one, else one a piece)."""
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        options: dict[str, Any] = {}
        if self._official:
            options["stream_options"] = {"include_usage": True}
        pieces: list[str] = []
        usage: Usage | None = None
        finish: str | None = None
        try:
            stream = self._client.chat.completions.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                stream=True,
                **options,
                **extra,
            )
            if not isinstance(stream, openai.Stream):
                raise errors.malformed(self.name, "the server did not stream its answer")
            try:
                for chunk in stream:
                    if self.cancelled():
                        break
                    if chunk.usage is not None:
                        usage = Usage(
                            tokens_in=int(chunk.usage.prompt_tokens or 0),
                            tokens_out=int(chunk.usage.completion_tokens or 0),
                        )
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    finish = choice.finish_reason or finish
                    piece = choice.delta.content if choice.delta is not None else None
                    if piece:
                        pieces.append(piece)
                        if self.on_text is not None:
                            self.on_text(piece)
            finally:
                stream.close()
        except openai.APIStatusError:
            raise  # mapped by the caller, which may first try another response format
        except openai.APITimeoutError as exc:
            raise errors.timeout(
                self.name, self.config.timeout_seconds, self.config.max_retries
            ) from exc
        except openai.APIConnectionError as exc:
            raise errors.unreachable(self.name, self.base_url, self.config.max_retries) from exc
        except openai.OpenAIError as exc:
            raise errors.malformed(self.name, errors.short(exc)) from exc
        except (ValueError, TypeError, AttributeError) as exc:
            raise errors.malformed(self.name, "the event stream is not valid JSON") from exc
        finally:
            if pieces or usage is not None:
                self.usage.append(usage or estimated_usage(system, user, len(pieces)))
        if self.cancelled():
            raise GenerationCancelled("cancelled while the model answered")
        if finish == "content_filter":
            raise errors.refused(self.name, "the provider's content filter stopped the answer")
        content = "".join(pieces)
        if not content.strip():
            raise errors.empty(self.name)
        return content

    def list_models(self) -> list[str]:
        """The model ids the server lists at ``/models`` (OpenAI and compatible servers)."""
        try:
            page = self._client.models.list()
            return sorted({str(m.id) for m in page.data if getattr(m, "id", None)})[:500]
        except openai.APIStatusError as exc:
            raise self._status_error(exc) from exc
        except openai.APITimeoutError as exc:
            raise errors.timeout(
                self.name, self.config.timeout_seconds, self.config.max_retries
            ) from exc
        except openai.APIConnectionError as exc:
            raise errors.unreachable(self.name, self.base_url, self.config.max_retries) from exc
        except (openai.OpenAIError, ValueError, TypeError, AttributeError) as exc:
            raise errors.malformed(self.name, errors.short(exc)) from exc

    def _read(self, completion: object) -> str:
        if not isinstance(completion, ChatCompletion):
            raise errors.malformed(self.name, "not a chat completion")
        try:
            choices = completion.choices
            if not choices:
                raise errors.malformed(self.name, "no choices")
            choice = choices[0]
            message = choice.message
            refusal = getattr(message, "refusal", None)
            finish = getattr(choice, "finish_reason", None)
            content = message.content
            usage = completion.usage
            self.usage.append(
                Usage(
                    tokens_in=int(getattr(usage, "prompt_tokens", 0) or 0),
                    tokens_out=int(getattr(usage, "completion_tokens", 0) or 0),
                )
            )
        except (AttributeError, TypeError, IndexError, KeyError) as exc:
            raise errors.malformed(self.name, "missing fields") from exc
        if refusal:
            raise errors.refused(self.name, str(refusal))
        if finish == "content_filter":
            raise errors.refused(self.name, "the provider's content filter stopped the answer")
        if not isinstance(content, str) or not content.strip():
            raise errors.empty(self.name)
        return content

    def _status_error(self, exc: openai.APIStatusError) -> DigipersonaError:
        body = exc.body if isinstance(exc.body, dict) else {}
        # The SDK hands over the "error" object itself for OpenAI-shaped bodies.
        detail = body.get("error", body) if isinstance(body.get("error"), dict) else body
        code = detail.get("code") if isinstance(detail.get("code"), str) else None
        message = detail.get("message") if isinstance(detail.get("message"), str) else None
        return errors.status_error(
            provider=self.name,
            model=self.model,
            base_url=self.base_url,
            status=exc.status_code,
            code=code,
            message=message,
            retry_after=_retry_after(exc.response.headers),
            retries=self.config.max_retries,
        )


POST_SCHEMA: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {
        "name": "post",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"post": {"type": "string"}},
            "required": ["post"],
            "additionalProperties": False,
        },
    },
}


# The forms of structured output tried in turn: OpenAI's JSON schema, llama.cpp's JSON object
# with a schema (a grammar), then none (the prompt asks for JSON; parsing is defensive).
_FORMATS: list[dict[str, Any] | None] = [
    POST_SCHEMA,
    {"type": "json_object", "schema": POST_SCHEMA["json_schema"]["schema"]},
    None,
]


def _mentions_format(exc: openai.APIStatusError) -> bool:
    if exc.status_code not in (400, 422, 500):
        return False
    text = f"{exc.message} {exc.body}".lower()
    return "response_format" in text or "json_schema" in text or "schema" in text


def _retry_after(headers: Any) -> float | None:
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return float(value) / divisor
            except ValueError:
                continue
    return None


def estimated_usage(system: str, user: str, pieces: int) -> Usage:
    """Tokens of a streamed call whose server sent no count (or that was cancelled): about four
    characters a prompt token, one token a streamed piece."""
    return Usage(tokens_in=(len(system) + len(user)) // 4, tokens_out=pieces)
