"""Domain-free text helpers: platform counting, little text, entities and byte offsets."""

from __future__ import annotations

import itertools
import random
import re

import pytest

from digipersona.kit.richtext import (
    LITTLE_TEXT_RESERVED,
    Entity,
    escape_little_text,
    find_entities,
    grapheme_boundaries,
    grapheme_length,
    graphemes,
    linkedin_length,
    normalise_for_compare,
    normalise_hashtag,
    utf8_length,
    utf8_span,
    utf16_length,
    x_weighted_length,
)
from digipersona.platforms.linkedin import littletext
from tests.fakes.linkedin import read_little_text

FAMILY = "👩‍👩‍👧‍👦"  # ZWJ sequence: 7 code points, 1 grapheme
THUMB = "👍🏽"  # skin-tone modifier
FLAG = "🇩🇪"  # regional indicator pair
E_ACUTE = "e\u0301"  # combining mark


# -- X weighted length (platform-apis 1.4) ------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi http://test.co", 26),  # conformance: a URL counts 23
        ("http://test.co", 23),  # a lone URL
        ("https://example.com/a/very/long/path?with=query&and=more", 23),
        ("example.com", 23),  # no scheme: still a URL
        ("日" * 160, 320),  # CJK weighs 2 (conformance: invalid at 320)
        ("한국어", 6),  # Hangul too: outside the weight-1 ranges
        ("😷👾😡🔥💩", 10),  # conformance v3: each emoji 2
        (FAMILY, 2),  # a ZWJ family is one emoji
        (THUMB, 2),
        (FLAG, 2),
        ("cafe\u0301", 4),  # NFC first: the decomposed é counts once
        ("שלום עולם", 9),  # Hebrew is inside U+0000-10FF: weight 1
        ("مرحبا", 5),  # Arabic as well
        ("“quoted”", 8),  # U+2010-201F punctuation weighs 1
        ("a" * 280, 280),
    ],
)
def test_x_weighted_length_matches_twitter_text(text: str, expected: int) -> None:
    assert x_weighted_length(text) == expected


# -- graphemes, bytes, UTF-16 --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "graphemes_", "utf8"),
    [
        ("👨‍👩‍👧‍👧", 1, 25),  # packages/api tests/rich-text.test.ts vector
        ("👨‍👩‍👧‍👧🔥 good!✅", 9, 38),  # same source
        (FAMILY + FLAG + E_ACUTE, 3, 25 + 8 + 3),
        (THUMB, 1, 8),
        ("日本語", 3, 9),
        ("שלום", 4, 8),
        ("", 0, 0),
    ],
)
def test_grapheme_and_byte_counts(text: str, graphemes_: int, utf8: int) -> None:
    assert grapheme_length(text) == graphemes_
    assert utf8_length(text) == utf8


def test_grapheme_length_stops_at_until() -> None:
    assert grapheme_length("a" * 1000, 301) == 301
    assert grapheme_length("a" * 10, 301) == 10


def test_utf16_counts_surrogate_pairs() -> None:
    assert utf16_length("😀") == 2
    assert utf16_length("é") == 1
    assert utf16_length(FAMILY) == 11


def test_grapheme_boundaries_never_inside_a_cluster() -> None:
    text = f"a{FAMILY}{FLAG}{E_ACUTE}{THUMB}b"
    bounds = grapheme_boundaries(text)
    assert bounds[0] == 0 and bounds[-1] == len(text)
    assert [text[a:b] for a, b in itertools.pairwise(bounds)] == [
        "a",
        FAMILY,
        FLAG,
        E_ACUTE,
        THUMB,
        "b",
    ]
    assert graphemes(text) == ["a", FAMILY, FLAG, E_ACUTE, THUMB, "b"]


def test_grapheme_boundaries_keep_indic_conjuncts_together() -> None:
    # "क्ष" is two clusters in the grapheme package's Unicode 13 data but one in Unicode 15.1:
    # never cut after the virama.
    text = "क्ष" * 3
    bounds = grapheme_boundaries(text)
    assert all(text[b - 1] != "\u094d" for b in bounds[1:])


# -- LinkedIn little text (platform-apis 3.4/3.5) ------------------------------------------------
def test_every_reserved_character_is_escaped() -> None:
    assert escape_little_text("Hi (there) #tag a_b @x ~ * | {} <> [] \\ #2") == (
        "Hi \\(there\\) #tag a\\_b \\@x \\~ \\* \\| \\{\\} \\<\\> \\[\\] \\\\ \\#2"
    )
    assert escape_little_text(
        "".join(sorted(LITTLE_TEXT_RESERVED)), keep_hashtags=False
    ) == "".join("\\" + c for c in sorted(LITTLE_TEXT_RESERVED))


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("#tag", "#tag"),  # a hashtag stays linkable
        ("(#tag)", "\\(#tag\\)"),
        ("#日本 #हिन्दी", "#日本 #हिन्दी"),
        ("#2024", "\\#2024"),  # a number, not a tag
        ("a#b", "a\\#b"),  # glued to a word
        ("##tag", "\\#\\#tag"),  # glued to another '#'
        ("#_tag", "\\#\\_tag"),  # '#' then an escaped '_' would start nothing: escape both
        ("&#39;", "&\\#39;"),  # an HTML entity
        ("https://x.io/#frag", "https://x.io/\\#frag"),  # a URL fragment
        ("#under_score", "#under\\_score"),  # the tag keeps its '#', '_' is still escaped
        ("# alone", "\\# alone"),
    ],
)
def test_hashtags_stay_linkable(text: str, escaped: str) -> None:
    assert escape_little_text(text) == escaped


def test_keep_hashtags_false_escapes_every_hash() -> None:
    assert escape_little_text("#tag and #other", keep_hashtags=False) == "\\#tag and \\#other"


def test_linkedin_length_counts_after_escaping_in_utf16() -> None:
    assert linkedin_length("(a)") == 5
    assert linkedin_length("😀") == 2
    assert linkedin_length("#tag") == 4


def _random_reserved_text(rng: random.Random) -> str:
    alphabet = [*LITTLE_TEXT_RESERVED, "a", "b", " ", "1", "é", "日", "#tag", FAMILY, "/", "&"]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))


def test_escaped_text_is_read_whole_by_the_linkedin_fake() -> None:
    """Property: LinkedIn reads escaped text to the end and shows exactly the original."""
    rng = random.Random(11)
    for _ in range(500):
        text = _random_reserved_text(rng)
        for keep in (True, False):
            escaped = escape_little_text(text, keep_hashtags=keep)
            kept, shown = read_little_text(escaped)
            assert kept == escaped, text
            assert shown == text, text
            # Removing the escapes gives the original back.
            assert re.sub(r"\\(.)", r"\1", escaped, flags=re.DOTALL) == text


def test_escaping_agrees_with_the_linkedin_client() -> None:
    """The editor's count and the client's count must never disagree (platform-apis 3.5)."""
    rng = random.Random(12)
    for _ in range(300):
        text = _random_reserved_text(rng)
        if "#_" in text:
            # littletext keeps this '#' unescaped, then escapes the '_', and LinkedIn cuts the
            # post at "#\_" (the fake above proves it): reported to the lead, not yet fixed there.
            continue
        assert escape_little_text(text) == littletext.escape(text)
        assert linkedin_length(text) == littletext.commentary_length(text)


# -- entities ------------------------------------------------------------------------------------
def _kinds(text: str) -> list[tuple[str, str]]:
    return [(e.kind, e.value) for e in find_entities(text)]


def test_bluesky_docs_vector_offsets() -> None:
    # bsky-docs posts.md: mention at bytes 23-35, link at 74-108 (platform-apis 2.3).
    text = (
        "✨ example mentioning @atproto.com to share the URL 👨‍❤️‍👨 "
        "https://en.wikipedia.org/wiki/CBOR."
    )
    mention, link = find_entities(text)
    assert (mention.kind, mention.value) == ("mention", "atproto.com")
    assert utf8_span(text, mention.start, mention.end) == (23, 35)
    assert (link.kind, link.value) == ("url", "https://en.wikipedia.org/wiki/CBOR")
    assert utf8_span(text, link.start, link.end) == (74, 108)
    assert len(text) == 93 and utf8_length(text) == 109


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see https://example.com/a.", [("url", "https://example.com/a")]),
        ("wow https://x.io/p?!", [("url", "https://x.io/p")]),
        ("a https://x.io/p, b;", [("url", "https://x.io/p")]),
        ("(see https://x.io/a)", [("url", "https://x.io/a")]),  # unbalanced ')'
        ("(see https://x.io/a).", [("url", "https://x.io/a")]),
        (
            "https://en.wikipedia.org/wiki/Foo_(bar)",
            [("url", "https://en.wikipedia.org/wiki/Foo_(bar)")],
        ),
        ("visit example.com!", [("url", "example.com")]),  # bare domain
        ("go to www.example.co.uk/path?q=1.", [("url", "www.example.co.uk/path?q=1")]),
        ("host example.dev:8080/x", [("url", "example.dev:8080/x")]),
        ("run setup.py and read README.md", []),  # file names are not links
        ("mail a@b.com", []),  # an email is neither a mention nor a link
        ("EXAMPLE.ORG", [("url", "EXAMPLE.ORG")]),
        ("hi @dana", [("mention", "dana")]),
        ("hi @dana.bsky.social!", [("mention", "dana.bsky.social")]),
        ("hi @dana_x.", [("mention", "dana_x")]),
        ("#PlatformEng #123 #日本語", [("hashtag", "PlatformEng"), ("hashtag", "日本語")]),
        ("#हिन्दी", [("hashtag", "हिन्दी")]),  # vowel signs are marks, not \w
        (f"#caf{E_ACUTE}", [("hashtag", f"caf{E_ACUTE}")]),
        ("a#b x.io/p#q", [("url", "x.io/p#q")]),
        ("(#tag)", [("hashtag", "tag")]),
        (f"{FAMILY} https://x.io {FLAG}", [("url", "https://x.io")]),
    ],
)
def test_find_entities(text: str, expected: list[tuple[str, str]]) -> None:
    assert _kinds(text) == expected


def test_entities_in_rtl_text_have_exact_offsets() -> None:
    text = "שלום @dana.bsky.social ראו https://example.com/עמוד #עברית"
    found = find_entities(text)
    assert [e.kind for e in found] == ["mention", "url", "hashtag"]
    assert found[2].value == "עברית"
    for entity in found:
        start, end = utf8_span(text, entity.start, entity.end)
        assert text.encode()[start:end].decode() == text[entity.start : entity.end]


def test_entities_are_ordered_and_never_overlap() -> None:
    text = "#example.com @x.io https://x.io/@dana #tag"
    found = find_entities(text)
    assert found == sorted(found, key=lambda e: e.start)
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
    assert Entity("url", 19, 37, "https://x.io/@dana") in found


def test_utf8_span_matches_byte_slices_on_random_text() -> None:
    rng = random.Random(7)
    vocab = [
        "日本",
        FAMILY,
        THUMB,
        FLAG,
        E_ACUTE,
        "https://ex.io/ü",
        "@dana.bsky.social",
        "#tåg",
        "x",
    ]
    for _ in range(200):
        text = " ".join(rng.choice(vocab) for _ in range(rng.randint(1, 12)))
        raw = text.encode()
        for entity in find_entities(text):
            start, end = utf8_span(text, entity.start, entity.end)
            assert raw[start:end].decode() == text[entity.start : entity.end]


# -- small helpers -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("devops", "#devops"),
        ("#DevOps", "#DevOps"),
        ("  #Remote Work ", "#RemoteWork"),
        ("remote-work", "#remotework"),
        ("日本", "#日本"),
        ("2024", None),
        ("#", None),
        ("", None),
        ("c++", None),
    ],
)
def test_normalise_hashtag(tag: str, expected: str | None) -> None:
    assert normalise_hashtag(tag) == expected


def test_normalise_for_compare() -> None:
    assert (
        normalise_for_compare("  Hello,   WORLD!! https://x.io/a  Ｆｕｌｌ  ") == "hello world full"
    )
    assert normalise_for_compare(f"Caf{E_ACUTE} #tag @dana") == "café tag dana"
    assert normalise_for_compare("Straße") == "strasse"
