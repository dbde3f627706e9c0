"""An OpenAI-compatible fake with a key and two models, for the AI settings tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.llm_openai import FakeOpenAI
from tests.fakes.server import serve

KEY = "sk-test-abcdefghijklmnop1234"


@pytest.fixture
def fake() -> Iterator[tuple[FakeOpenAI, str]]:
    fake = FakeOpenAI(api_keys={KEY}, models=["small-model", "other-model"])
    with serve(fake) as server:
        yield fake, server.url + "/v1"
