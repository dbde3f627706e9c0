"""TIDs (record keys) and rich-text facets, checked against published atproto vectors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from atproto_client.models.string_formats import TID_RE as SDK_TID_RE

from digipersona.platforms.bluesky import tid
from digipersona.platforms.bluesky.facets import build_facets

CREATED = datetime(2026, 8, 7, 5, 31, 12, 156_789, tzinfo=UTC)


def test_known_tid_round_trips() -> None:
    # A valid TID from atproto interop-test-files/syntax/tid_syntax_valid.txt.
    micros, clock = tid.decode("3jzfcijpj2z2a")
    assert tid.encode(micros, clock) == "3jzfcijpj2z2a"
    assert datetime(2022, 1, 1, tzinfo=UTC) < datetime.fromtimestamp(micros / 1e6, UTC)


@pytest.mark.parametrize("bad", ["3jzfcijpj2z2", "kjzfcijpj2z2a", "3jzfcijpj2z21", "3JZFCIJPJ2Z2A"])
def test_invalid_tids_are_rejected(bad: str) -> None:
    assert not tid.is_valid(bad)
    with pytest.raises(ValueError, match="not a TID"):
        tid.decode(bad)


def test_deterministic_tid_is_stable_valid_and_distinct() -> None:
    first = tid.deterministic_tid(CREATED, "pub-1", 0)
    assert first == tid.deterministic_tid(CREATED, "pub-1", 0)
    assert SDK_TID_RE.match(first)
    parts = {tid.deterministic_tid(CREATED, "pub-1", i) for i in range(50)}
    assert len(parts) == 50
    same_moment = {tid.deterministic_tid(CREATED, f"pub-{n}", 0) for n in range(2000)}
    assert len(same_moment) == 2000
    micros, _ = tid.decode(first)
    when = datetime.fromtimestamp(micros / 1e6, UTC)
    assert abs(when - CREATED) < timedelta(seconds=1)


def test_part_index_is_bounded() -> None:
    with pytest.raises(ValueError, match="part_index"):
        tid.deterministic_tid(CREATED, "k", 1000)


def test_naive_created_at_is_taken_as_utc() -> None:
    assert tid.deterministic_tid(CREATED.replace(tzinfo=None), "k", 1) == tid.deterministic_tid(
        CREATED, "k", 1
    )


def test_bsky_docs_facet_vector() -> None:
    # bsky-docs posts.md: mention at bytes 23-35, link at 74-108.
    text = (
        "✨ example mentioning @atproto.com to share the URL 👨‍❤️‍👨 "
        "https://en.wikipedia.org/wiki/CBOR."
    )
    facets = build_facets(text, lambda handle: "did:plc:ewvi7nxzyoun6zhxrhs64oiz")
    assert facets == [
        {
            "index": {"byteStart": 23, "byteEnd": 35},
            "features": [
                {
                    "$type": "app.bsky.richtext.facet#mention",
                    "did": "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
                }
            ],
        },
        {
            "index": {"byteStart": 74, "byteEnd": 108},
            "features": [
                {
                    "$type": "app.bsky.richtext.facet#link",
                    "uri": "https://en.wikipedia.org/wiki/CBOR",
                }
            ],
        },
    ]


def test_unresolvable_mentions_stay_plain_and_tags_strip_punctuation() -> None:
    text = "日本 @ghost.test #launch! see example.com/x."
    facets = build_facets(text, lambda handle: None)
    encoded = text.encode()
    found = {
        encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(): f["features"][0]
        for f in facets
    }
    assert found == {
        "#launch": {"$type": "app.bsky.richtext.facet#tag", "tag": "launch"},
        "example.com/x": {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/x"},
    }


def test_each_handle_is_resolved_with_the_given_resolver() -> None:
    asked: list[str] = []

    def resolve(handle: str) -> str:
        asked.append(handle)
        return f"did:plc:{handle.split('.')[0]}"

    facets = build_facets("@a.test and @b.test", resolve)
    assert asked == ["a.test", "b.test"]
    assert [f["features"][0]["did"] for f in facets] == ["did:plc:a", "did:plc:b"]
