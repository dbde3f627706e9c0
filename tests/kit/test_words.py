"""Counted words read right: "1 minute", "2 minutes" (issue 17: "1 minutes")."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from digipersona.generation import errors
from digipersona.kit.words import plural
from digipersona.publishing.settle import late_message


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 minutes"), (1, "1 minute"), (2, "2 minutes"), (1.0, "1 minute"), (2.5, "2.5 minutes")],
)
def test_plural(count: float, expected: str) -> None:
    assert plural(count, "minute") == expected


def test_plural_irregular_and_given_forms() -> None:
    assert plural(2, "reply") == "2 replies" and plural(1, "reply") == "1 reply"
    assert plural(3, "person", "people") == "3 people"


def test_a_missed_post_says_one_minute() -> None:
    persona: Any = SimpleNamespace(name="Dana", max_lateness_minutes=1)
    message = late_message(timedelta(minutes=1, seconds=20), persona)
    assert message.startswith("It was 1 minute late and Dana gives up after 1 minute,")


def test_provider_errors_count_retries_and_seconds_right() -> None:
    assert "(1 retry)" in errors.timeout("openai", 1, 1).message
    assert "within 1 second " in errors.timeout("openai", 1, 1).message
    assert "(2 retries)" in errors.unreachable("openai", "http://x", 2).message
