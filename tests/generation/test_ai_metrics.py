"""Each request to an AI provider is counted and timed, by provider and outcome."""

from __future__ import annotations

import pytest

from digipersona.generation.errors import AIConfigError, AIProviderError
from digipersona.kit.metrics import REGISTRY
from tests.generation.conftest import LLMHarness


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_ai_requests_are_counted_by_outcome_and_timed(openai_llm: LLMHarness) -> None:
    provider = openai_llm.provider(max_retries=0)
    ok = value("digipersona_ai_requests_total", provider="openai", outcome="ok")
    timed = value("digipersona_ai_request_duration_seconds_count", provider="openai")
    provider.classify_lead("Do you sell this in bulk?")
    assert value("digipersona_ai_requests_total", provider="openai", outcome="ok") == ok + 1
    openai_llm.fake.fail_next(401)
    with pytest.raises((AIConfigError, AIProviderError)) as failed:
        provider.classify_lead("Hello")
    outcome = type(failed.value).__name__
    assert outcome != "ok"
    assert value("digipersona_ai_requests_total", provider="openai", outcome=outcome) >= 1
    assert value("digipersona_ai_request_duration_seconds_count", provider="openai") == timed + 2
