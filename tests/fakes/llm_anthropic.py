"""A fake Anthropic Messages API server (same fault knobs as ``FakeOpenAI``).

Wire format as documented by Anthropic's API reference (Messages, Errors, Versioning):
``POST /v1/messages`` needs ``x-api-key`` (401 ``authentication_error`` without or with a wrong
one) and ``anthropic-version`` (400 ``invalid_request_error`` without); ``model``, ``max_tokens``
and non-empty ``messages`` are required. Success: ``{id, type: "message", role: "assistant",
model, content: [{type: "text", text}], stop_reason, stop_sequence, usage{input_tokens,
output_tokens}}``; a refusal has ``stop_reason: "refusal"``. Errors: ``{"type": "error", "error":
{"type", "message"}, "request_id"}`` with 400/401/404/429/500/529.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.fakes.llm_openai import FakeLLMBase, Fault, Recorded, Response, json_response

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


class FakeAnthropic(FakeLLMBase):
    """An Anthropic Messages API server."""

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        request_id = f"req_{uuid.uuid4().hex[:20]}"
        payload = {
            "type": "error",
            "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message},
            "request_id": request_id,
        }
        return json_response(status, payload, {"request-id": request_id, **(headers or {})})

    def handle(self, request: Recorded) -> Response:
        """Route, check headers, inject faults, answer."""
        key = request.headers.get("x-api-key", "")
        if not key:
            return self._error(401, "x-api-key header is required")
        if key not in self.api_keys:
            return self._error(401, "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return self._error(400, "anthropic-version: header is required")
        if request.method == "GET" and request.path == "/v1/models":
            data = [
                {"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
                for m in self.models
            ]
            return json_response(
                200,
                {
                    "data": data,
                    "has_more": False,
                    "first_id": self.models[0] if self.models else None,
                    "last_id": self.models[-1] if self.models else None,
                },
            )
        if request.path != "/v1/messages" or request.method != "POST":
            return self._error(404, "Not Found")
        body = request.json
        if not isinstance(body, dict):
            return self._error(400, "There was an issue with the format of your request body")
        for name in ("model", "max_tokens", "messages"):
            if name not in body:
                return self._error(400, f"{name}: Field required")
        max_tokens = body["max_tokens"]
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            return self._error(400, "max_tokens: Input should be a valid integer greater than 0")
        if not isinstance(body["messages"], list) or not body["messages"]:
            return self._error(400, "messages: at least one message is required")
        if body.get("stream"):
            return self._error(400, "This fake supports non-streaming requests only.")
        model = body["model"]
        if model not in self.models:
            return self._error(404, f"model: {model}")
        fault = self._take_fault()
        if fault and fault.kind == "delay":
            self._wait(fault.seconds)
            fault = None
        if fault and fault.kind == "status":
            return self._status_fault(fault)
        if fault and fault.kind == "malformed":
            return 200, {"Content-Type": "application/json"}, b"<html>upstream hiccup</html>"
        if fault and fault.kind == "missing_fields":
            return json_response(200, {"id": "msg_broken", "type": "message"})
        prompt = request.prompt_text()
        stop_reason = "end_turn"
        content: list[dict[str, Any]]
        if fault and fault.kind == "empty":
            content = []
        elif fault and fault.kind == "refusal":
            content, stop_reason = [], "refusal"
        else:
            content = [{"type": "text", "text": self._reply_text(body, prompt)}]
        output_tokens = sum(len(str(b.get("text", "")).split()) for b in content)
        return json_response(
            200,
            {
                "id": f"msg_{uuid.uuid4().hex[:24]}",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": content,
                "stop_reason": stop_reason,
                "stop_sequence": None,
                "usage": {"input_tokens": len(prompt.split()), "output_tokens": output_tokens},
            },
            {"request-id": f"req_{uuid.uuid4().hex[:20]}"},
        )

    def _status_fault(self, fault: Fault) -> Response:
        headers: dict[str, str] = {}
        if fault.retry_after_ms is not None:
            headers["retry-after-ms"] = str(fault.retry_after_ms)
            headers["retry-after"] = str(max(1, round(fault.retry_after_ms / 1000)))
        elif fault.status == 429:
            headers = {"retry-after-ms": "10", "retry-after": "1"}
        default = {
            401: "invalid x-api-key",
            404: "model: unknown",
            429: "Number of request tokens has exceeded your per-minute rate limit",
            529: "Overloaded",
        }.get(fault.status, "Internal server error")
        return self._error(fault.status, fault.message or default, headers)
