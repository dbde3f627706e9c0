"""A fake OpenAI-compatible Chat Completions server, plus the fault knobs both LLM fakes share.

Wire format as documented by OpenAI's API reference (Chat Completions, Models, Error codes):
``POST /v1/chat/completions`` with ``Authorization: Bearer <key>``; success bodies carry ``id``,
``object: "chat.completion"``, ``created``, ``model``, ``choices[{index, message{role, content,
refusal}, finish_reason}]`` and ``usage``; errors are ``{"error": {"message", "type", "param",
"code"}}`` (401 ``invalid_api_key``, 404 ``model_not_found``, 429 ``rate_limit_exceeded`` with
``retry-after``, 500 ``server_error``). Streaming is not supported (the client sends
``stream: false``).

Knobs (set per test; each applies to the next N generation requests, in the order queued):
``fail_next(status)``, ``delay_next(seconds)``, ``malformed_next(kind)``, ``empty_next()``,
``refuse_next(message)``, ``content_filter_next()``; ``while_answering`` runs a callback during
each generation request. ``script(*texts)`` queues reply texts;
otherwise ``responder(body)`` (if set) or an echo of the prompt's first user line answers.
Every request is kept in ``requests`` so tests can assert what the prompt contained.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

FaultKind = Literal[
    "status", "delay", "malformed", "empty", "refusal", "content_filter", "missing_fields"
]
StartResponse = Callable[[str, list[tuple[str, str]]], Any]
Response = tuple[int, dict[str, str], bytes]

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    529: "Overloaded",
}


@dataclass
class Fault:
    """One injected misbehaviour of the next generation request."""

    kind: FaultKind
    status: int = 500
    seconds: float = 0.0
    retry_after_ms: int | None = None
    message: str | None = None
    code: str | None = None


@dataclass
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any = None

    def prompt_text(self) -> str:
        """Every message text of a chat/messages request, joined (system prompt included)."""
        data = self.json if isinstance(self.json, dict) else {}
        parts: list[str] = []
        system = data.get("system")
        if isinstance(system, str):
            parts.append(system)
        for message in data.get("messages") or []:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):
                parts.extend(str(b.get("text", "")) for b in content if isinstance(b, dict))
        return "\n".join(parts)


@dataclass
class FakeLLMBase:
    """Fault queue, scripted replies and request log shared by the LLM fakes (a WSGI app)."""

    api_keys: set[str] = field(default_factory=lambda: {"test-key"})
    models: list[str] = field(default_factory=lambda: ["test-model"])
    requests: list[Recorded] = field(default_factory=list)
    faults: deque[Fault] = field(default_factory=deque)
    replies: deque[str] = field(default_factory=deque)
    responder: Callable[[dict[str, Any]], str] | None = None
    # Called in the server's thread on each generation request before it is answered: a test
    # looks at the world (is the database free?) while the "model" thinks.
    while_answering: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    # -- knobs -----------------------------------------------------------------------------
    def fail_next(
        self,
        status: int,
        times: int = 1,
        *,
        retry_after_ms: int | None = None,
        message: str | None = None,
        code: str | None = None,
    ) -> None:
        """The next ``times`` generation requests answer with an error ``status``."""
        self._queue(
            times,
            Fault(
                "status", status=status, retry_after_ms=retry_after_ms, message=message, code=code
            ),
        )

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """The next ``times`` generation requests wait ``seconds`` before answering."""
        self._queue(times, Fault("delay", seconds=seconds))

    def malformed_next(
        self, times: int = 1, *, kind: Literal["not_json", "missing_fields"] = "not_json"
    ) -> None:
        """The next ``times`` answers are 200 with an unparseable or incomplete body."""
        self._queue(times, Fault("malformed" if kind == "not_json" else "missing_fields"))

    def empty_next(self, times: int = 1) -> None:
        """The next ``times`` answers are well-formed but carry no text."""
        self._queue(times, Fault("empty"))

    def refuse_next(self, times: int = 1, *, message: str = "I can't help with that.") -> None:
        """The next ``times`` answers are refusals in the API's own refusal shape."""
        self._queue(times, Fault("refusal", message=message))

    def script(self, *texts: str) -> None:
        """Queue reply texts, used in order before the responder/echo."""
        self.replies.extend(texts)

    def shutdown(self) -> None:
        """Release requests blocked in a delay (called by ``serve`` on exit)."""
        self._stopping.set()

    def _queue(self, times: int, fault: Fault) -> None:
        with self._lock:
            self.faults.extend([fault] * times)

    def _take_fault(self) -> Fault | None:
        with self._lock:
            return self.faults.popleft() if self.faults else None

    def _reply_text(self, body: dict[str, Any], prompt: str) -> str:
        with self._lock:
            if self.replies:
                return self.replies.popleft()
        if self.responder is not None:
            return self.responder(body)
        lines = [line.strip() for line in prompt.splitlines() if line.strip()]
        brief = next((line for line in lines if line.startswith("Brief:")), None)
        return f"Echo from the fake model. {brief or (lines[-1] if lines else '')}"

    @property
    def last(self) -> Recorded:
        """The most recent request."""
        return self.requests[-1]

    def generation_requests(self) -> list[Recorded]:
        """Requests to the generation endpoint only."""
        return [r for r in self.requests if r.method == "POST"]

    # -- WSGI ------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        record = Recorded(
            environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), headers, raw, parsed
        )
        with self._lock:
            self.requests.append(record)
        if record.method == "POST" and self.while_answering is not None:
            self.while_answering()
        status, out_headers, body = self.handle(record)
        start_response(
            f"{status} {_REASONS.get(status, 'Status')}",
            [("Content-Length", str(len(body))), *out_headers.items()],
        )
        return [body]

    def handle(self, request: Recorded) -> Response:
        """Answer one request (implemented by each fake)."""
        raise NotImplementedError

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON response triple."""
    out = {"Content-Type": "application/json", **(headers or {})}
    return status, out, json.dumps(payload).encode()


class FakeOpenAI(FakeLLMBase):
    """An OpenAI-compatible Chat Completions server. ``ignore_n`` mimics servers without ``n``."""

    ignore_n: bool = False

    def _error(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        payload = {"error": {"message": message, "type": type_, "param": param, "code": code}}
        return json_response(status, payload, headers)

    def handle(self, request: Recorded) -> Response:
        """Route, authenticate, inject faults, answer."""
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return self._error(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        key = auth[7:].strip()
        if key not in self.api_keys:
            masked = f"{key[:3]}***{key[-4:]}" if len(key) > 8 else "***"
            return self._error(
                401,
                f"Incorrect API key provided: {masked}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )
        if request.method == "GET" and request.path == "/v1/models":
            return json_response(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": m, "object": "model", "created": 1700000000, "owned_by": "fake"}
                        for m in self.models
                    ],
                },
            )
        if request.path != "/v1/chat/completions" or request.method != "POST":
            return self._error(404, f"Invalid URL ({request.method} {request.path})")
        body = request.json
        if not isinstance(body, dict):
            return self._error(400, "We could not parse the JSON body of your request.")
        model = body.get("model")
        if not model:
            return self._error(400, "you must provide a model parameter", param="model")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return self._error(
                400, "'messages' must contain at least one message", param="messages"
            )
        if body.get("stream"):
            return self._error(400, "This fake supports stream=false only.", param="stream")
        if model not in self.models:
            return self._error(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                code="model_not_found",
            )
        fault = self._take_fault()
        if fault and fault.kind == "delay":
            self._wait(fault.seconds)
            fault = None
        if fault and fault.kind == "status":
            return self._status_fault(fault)
        if fault and fault.kind == "malformed":
            return 200, {"Content-Type": "application/json"}, b"<html>upstream hiccup</html>"
        if fault and fault.kind == "missing_fields":
            return json_response(200, {"id": "chatcmpl-broken", "object": "chat.completion"})
        n = 1 if self.ignore_n else int(body.get("n") or 1)
        choices = []
        for index in range(n):
            content: str | None = self._reply_text(body, request.prompt_text())
            refusal = None
            finish = "stop"
            if fault and fault.kind == "empty":
                content = ""
            elif fault and fault.kind == "refusal":
                content, refusal = None, fault.message
            elif fault and fault.kind == "content_filter":
                content, finish = None, "content_filter"
            choices.append(
                {
                    "index": index,
                    "message": {"role": "assistant", "content": content, "refusal": refusal},
                    "logprobs": None,
                    "finish_reason": finish,
                }
            )
        prompt_tokens = len(request.prompt_text().split())
        completion_tokens = sum(len((c["message"]["content"] or "").split()) for c in choices)
        return json_response(
            200,
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": choices,
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
                "system_fingerprint": "fp_fake",
            },
            {"x-request-id": f"req_{uuid.uuid4().hex[:16]}"},
        )

    def content_filter_next(self, times: int = 1) -> None:
        """The next ``times`` answers stop with ``finish_reason: content_filter`` and no text."""
        self._queue(times, Fault("content_filter"))

    def _status_fault(self, fault: Fault) -> Response:
        headers: dict[str, str] = {}
        if fault.retry_after_ms is not None:
            headers["retry-after-ms"] = str(fault.retry_after_ms)
            headers["retry-after"] = str(max(1, round(fault.retry_after_ms / 1000)))
        status = fault.status
        if status == 401:
            return self._error(
                401,
                fault.message or "Incorrect API key provided.",
                code="invalid_api_key",
                headers=headers,
            )
        if status == 404:
            return self._error(
                404,
                fault.message or "The model does not exist.",
                code="model_not_found",
                headers=headers,
            )
        if status == 429:
            if fault.retry_after_ms is None:
                headers["retry-after-ms"] = "10"
                headers["retry-after"] = "1"
            return self._error(
                429,
                fault.message or "Rate limit reached for requests. Please try again shortly.",
                type_="requests",
                code=fault.code or "rate_limit_exceeded",
                headers=headers,
            )
        return self._error(
            status,
            fault.message
            or "The server had an error while processing your request. Sorry about that!",
            type_="server_error",
            code=fault.code,
            headers=headers,
        )
