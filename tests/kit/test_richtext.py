from __future__ import annotations

import pytest

from digipersona.kit.richtext import (
    escape_little_text,
    find_entities,
    grapheme_length,
    linkedin_length,
    utf8_span,
    x_weighted_length,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi http://test.co", 26),  # twitter-text conformance: URL counts 23
        ("https://example.com/a/very/long/path?with=query&and=more", 23),
        ("example.com", 23),
        ("日" * 160, 320),  # CJK weighs 2
        ("😷👾😡🔥💩", 10),  # each emoji 2 under v3
        ("cafe\u0301", 4),  # NFC first
        ("👩‍👩‍👧‍👦", 2),  # a ZWJ family is one emoji
    ],
)
def test_x_weighted_length(text: str, expected: int) -> None:
    assert x_weighted_length(text) == expected


def test_grapheme_length_counts_clusters() -> None:
    assert grapheme_length("👩‍👩‍👧‍👦🇩🇪e\u0301") == 3


def test_little_text_escaping_keeps_hashtags_linkable() -> None:
    assert escape_little_text("Hi (there) #tag a_b @x ~ * | {} <> [] \\ #2") == (
        "Hi \\(there\\) #tag a\\_b \\@x \\~ \\* \\| \\{\\} \\<\\> \\[\\] \\\\ \\#2"
    )
    assert escape_little_text("#tag", keep_hashtags=False) == "\\#tag"
    assert linkedin_length("(a)") == 5


def test_entities_urls_mentions_hashtags() -> None:
    text = "See https://example.com/a_(b). and example.org, @dana.bsky.social! mail a@b.com #PlatformEng #123 (https://x.io/p)"
    found = [(e.kind, e.value) for e in find_entities(text)]
    assert found == [
        ("url", "https://example.com/a_(b)"),
        ("url", "example.org"),
        ("mention", "dana.bsky.social"),
        ("hashtag", "PlatformEng"),
        ("url", "https://x.io/p"),
    ]


def test_utf8_span_counts_bytes() -> None:
    text = "日本 https://a.io"
    [url] = find_entities(text)
    assert utf8_span(text, url.start, url.end) == (7, 19)
    assert text.encode()[7:19].decode() == url.value
