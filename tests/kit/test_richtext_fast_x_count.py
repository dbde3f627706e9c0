"""The ASCII fast path of the X weighted count agrees with twitter-text itself."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st
from twitter_text import parse_tweet

from digipersona.kit.richtext import x_weighted_length

WORDS = st.sampled_from(
    [
        "ship",
        "small",
        "changes",
        ".",
        ". ",
        "#ops",
        "@dana",
        "\r\n",
        "\n",
        "example.com",
        "https://x.org/a",
        "a.b",
        "1.5",
        "...",
        "C#",
        "e.g.",
        ":",
        "//",
        " ",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=string.printable, max_size=120) | st.lists(WORDS, max_size=40).map("".join))
def test_the_count_is_twitter_texts(text: str) -> None:
    assert x_weighted_length.__wrapped__(text) == parse_tweet(text).weightedLength


def test_urls_and_line_ends_still_go_to_twitter_text() -> None:
    assert x_weighted_length("see example.com now") == 4 + 23 + 4
    assert x_weighted_length("a\r\nb") == 3
    assert x_weighted_length("plain. text") == 11
