"""Registry selection, config mapping, prompt files, and the generic loopback server helper."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from digipersona.generation import (
    AIConfigError,
    LLMConfig,
    config_from_settings,
    get_provider,
    prompts,
)
from digipersona.generation.providers.anthropic import AnthropicProvider
from digipersona.generation.providers.openai import OpenAIProvider
from digipersona.generation.providers.template import TemplateProvider
from tests.fakes.llm_anthropic import FakeAnthropic
from tests.fakes.llm_openai import FakeOpenAI
from tests.fakes.server import detect_kind, serve


class _Settings:
    llm_provider = "openai"
    llm_base_url = "http://127.0.0.1:11434/v1"
    llm_api_key = SecretStr("sk-local")
    llm_model = "llama3.1"
    llm_timeout_seconds = 12.5


def test_default_is_template() -> None:
    assert isinstance(get_provider(), TemplateProvider)
    assert isinstance(get_provider(LLMConfig()), TemplateProvider)


def test_settings_like_objects_are_mapped() -> None:
    config = config_from_settings(_Settings())
    assert config == LLMConfig("openai", "http://127.0.0.1:11434/v1", "sk-local", "llama3.1", 12.5)
    assert "sk-local" not in repr(config)
    provider = get_provider(_Settings())
    assert isinstance(provider, OpenAIProvider)
    assert provider.model == "llama3.1"
    provider.close()
    anthropic = get_provider(LLMConfig("anthropic", None, "k", "claude-test"))
    assert isinstance(anthropic, AnthropicProvider)
    anthropic.close()


def test_unknown_provider_names_the_setting() -> None:
    with pytest.raises(AIConfigError, match="DIGIPERSONA_LLM_PROVIDER"):
        get_provider(LLMConfig(provider="gemini"))


def test_prompt_versions_render_every_placeholder() -> None:
    for name, version in prompts.CURRENT.items():
        assert version.startswith(name)
    with pytest.raises(KeyError):
        prompts.render("classify")  # the template's $text is required
    rendered = prompts.render(
        "classify",
        text="How much?",
        offering="Consulting",
        not_leads="(none)",
        examples="(none)",
    )
    assert rendered.version == "classify_v2" and "How much?" in rendered.user
    assert "Consulting" in rendered.system + rendered.user
    assert "$" not in rendered.system


# -- the server helper and the fakes' own contract ----------------------------------------------
class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"hello from handler"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return None


def _wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello from wsgi " + environ["PATH_INFO"].encode()]


async def _asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello from asgi"})


@pytest.mark.parametrize(
    ("app", "kind", "expected"),
    [
        (_Hello, "handler", "hello from handler"),
        (_wsgi, "wsgi", "hello from wsgi /x"),
        (_asgi, "asgi", "hello from asgi"),
    ],
)
def test_serve_runs_each_kind_of_app(app: Any, kind: str, expected: str) -> None:
    assert detect_kind(app) == kind
    with serve(app) as server:
        assert server.url.startswith("http://127.0.0.1:")
        response = httpx.get(server.url + "/x", timeout=5)
        assert response.text == expected
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/x", timeout=1)


def test_fake_openai_speaks_the_wire_format() -> None:
    fake = FakeOpenAI()
    with serve(fake) as server, httpx.Client(base_url=server.url, timeout=5) as client:
        assert client.get("/v1/models").json()["error"]["message"].startswith("You didn't")
        auth = {"Authorization": "Bearer test-key"}
        models = client.get("/v1/models", headers=auth).json()
        assert models["object"] == "list" and models["data"][0]["id"] == "test-model"
        body = {"model": "test-model", "messages": [{"role": "user", "content": "Hi"}], "n": 2}
        ok = client.post("/v1/chat/completions", headers=auth, json=body).json()
        assert ok["object"] == "chat.completion" and len(ok["choices"]) == 2
        assert set(ok["choices"][0]["message"]) == {"role", "content", "refusal"}
        assert set(ok["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}
        fake.ignore_n = True
        assert (
            len(client.post("/v1/chat/completions", headers=auth, json=body).json()["choices"]) == 1
        )
        fake.fail_next(429)
        limited = client.post("/v1/chat/completions", headers=auth, json=body)
        assert limited.status_code == 429 and limited.headers["retry-after"]
        assert limited.json()["error"]["code"] == "rate_limit_exceeded"
        wrong = client.post(
            "/v1/chat/completions", headers={"Authorization": "Bearer nope-nope-nope"}, json=body
        )
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
        missing = client.post("/v1/chat/completions", headers=auth, json={**body, "model": "x"})
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"


def test_fake_anthropic_checks_headers_like_the_api() -> None:
    fake = FakeAnthropic()
    body = {
        "model": "test-model",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "Hi"}],
    }
    with serve(fake) as server, httpx.Client(base_url=server.url, timeout=5) as client:
        no_key = client.post("/v1/messages", json=body)
        assert no_key.status_code == 401
        assert no_key.json()["error"]["type"] == "authentication_error"
        no_version = client.post("/v1/messages", headers={"x-api-key": "test-key"}, json=body)
        assert no_version.status_code == 400
        assert no_version.json()["error"]["type"] == "invalid_request_error"
        headers = {"x-api-key": "test-key", "anthropic-version": "2023-06-01"}
        no_max = client.post("/v1/messages", headers=headers, json={**body, "max_tokens": None})
        assert no_max.status_code == 400
        ok = client.post("/v1/messages", headers=headers, json=body).json()
        assert ok["type"] == "message" and ok["content"][0]["type"] == "text"
        assert set(ok["usage"]) == {"input_tokens", "output_tokens"}
        fake.fail_next(529)
        overloaded = client.post("/v1/messages", headers=headers, json=body)
        assert overloaded.status_code == 529
        assert overloaded.json() == {
            "type": "error",
            "error": {"type": "overloaded_error", "message": "Overloaded"},
            "request_id": overloaded.json()["request_id"],
        }
        fake.refuse_next()
        refused = client.post("/v1/messages", headers=headers, json=body).json()
        assert refused["stop_reason"] == "refusal"
        del body["max_tokens"]
        required = client.post("/v1/messages", headers=headers, content=json.dumps(body))
        assert required.status_code == 400 and "max_tokens" in required.json()["error"]["message"]
