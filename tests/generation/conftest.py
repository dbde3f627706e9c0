"""Fixtures for the generation tests: a persona and the fake LLM servers on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from digipersona.generation import GenerationProvider, LLMConfig, PersonaProfile, get_provider
from tests.fakes.llm_anthropic import FakeAnthropic
from tests.fakes.llm_openai import FakeLLMBase, FakeOpenAI
from tests.fakes.server import serve


@pytest.fixture
def persona() -> PersonaProfile:
    """A persona with every field set, writing in English."""
    return PersonaProfile(
        name="Ada Lovelace",
        bio="Engineering lead at a small analytics company.",
        voice="warm, curious, plain-spoken",
        topics=["remote work", "engineering culture"],
        audience="engineering managers",
        language="en",
        hashtags=["remote work", "#Leadership"],
        banned_phrases=["game changer", "synergy"],
        example_posts=[
            "We tried written standups for a month 🚀\n\nFewer meetings. More focus.",
            "Small teams ship faster 🚀. Here's what we changed.",
        ],
    )


@dataclass
class LLMHarness:
    """A running fake plus the config that points a provider at it."""

    fake: FakeLLMBase
    config: LLMConfig

    def provider(self, **changes: Any) -> GenerationProvider:
        """A provider for the fake, with config fields overridden."""
        return get_provider(replace(self.config, **changes))


@pytest.fixture(params=["openai", "anthropic"])
def llm(request: pytest.FixtureRequest) -> Iterator[LLMHarness]:
    """Each SDK provider against its fake server (fast retries, short timeout)."""
    fake: FakeLLMBase = FakeOpenAI() if request.param == "openai" else FakeAnthropic()
    with serve(fake) as server:
        base_url = server.url + "/v1" if request.param == "openai" else server.url
        config = LLMConfig(
            provider=request.param,
            base_url=base_url,
            api_key="test-key",
            model="test-model",
            timeout_seconds=5,
            max_retries=2,
        )
        yield LLMHarness(fake, config)


@pytest.fixture
def openai_llm() -> Iterator[LLMHarness]:
    """The OpenAI provider against the fake (for OpenAI-only behaviour)."""
    fake = FakeOpenAI()
    with serve(fake) as server:
        config = LLMConfig("openai", server.url + "/v1", "test-key", "test-model", 5, 2)
        yield LLMHarness(fake, config)
