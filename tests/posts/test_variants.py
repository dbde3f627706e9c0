"""The text fitter: limits in each platform's counting, threads that never break entities."""

from __future__ import annotations

import random

import pytest

from digipersona.kit.richtext import find_entities, grapheme_length, utf8_length
from digipersona.posts import guardrails
from digipersona.posts.hashtags import merge_hashtags, tags_to_add
from digipersona.posts.variants import build_variant, fit_post, fits, measure


def test_limits_exact_and_one_over() -> None:
    assert build_variant("x", "a" * 280).valid
    over = build_variant("x", "a" * 281)  # one word cannot be split at a space: graphemes
    assert all(n <= 280 for n in over.lengths)
    assert build_variant("linkedin", "a" * 3000).valid
    too_long = build_variant("linkedin", "a" * 3001)
    assert not too_long.valid
    assert "shorten by 1" in too_long.problems[0]


def test_linkedin_counts_after_escaping() -> None:
    text = "(" * 1500 + ")" * 1500
    variant = build_variant("linkedin", text)
    assert variant.lengths == [6000]
    assert "shorten by 3000" in variant.problems[0]


def test_bluesky_checks_graphemes_and_bytes() -> None:
    family = "👩‍👩‍👧‍👦"  # 1 grapheme, 25 bytes
    m = measure("bluesky", family * 150)
    assert m.length == 150
    assert m.utf8_bytes == 25 * 150
    assert not m.ok  # 3750 bytes > 3000
    parts = build_variant("bluesky", " ".join([family] * 150)).parts
    assert all(fits("bluesky", p) for p in parts)
    assert all(family in p for p in parts)


def test_thread_split_keeps_entities_whole_and_words_in_order() -> None:
    rng = random.Random(5)
    vocab = [
        "platform",
        "teams",
        "日本語",
        "café",
        "e\u0301",
        "🚀",
        "👩‍👩‍👧‍👦",
        "https://example.com/a_(b)",
        "@dana.bsky.social",
        "#DevOps",
        "example.org/x",
    ]
    for _ in range(40):
        words = [rng.choice(vocab) for _ in range(rng.randint(60, 220))]
        text = " ".join(words)
        for platform in ("x", "bluesky"):
            variant = build_variant(platform, text)
            assert variant.valid, variant.problems
            assert " ".join(variant.parts).split() == text.split()
            for part in variant.parts:
                assert fits(platform, part)
                for entity in find_entities(part):
                    assert entity.value in text


def test_split_prefers_paragraphs_then_sentences() -> None:
    para1 = "First paragraph sentence one. " * 8
    para2 = "Second paragraph here. " * 8
    variant = build_variant("x", f"{para1.strip()}\n\n{para2.strip()}")
    assert variant.parts[0].startswith("First paragraph")
    assert len(variant.parts) > 1
    assert all(p.endswith(".") for p in variant.parts)  # never cut inside a sentence


def test_numbering_is_counted() -> None:
    variant = build_variant("x", "word " * 400, numbering=True)
    n = len(variant.parts)
    assert variant.parts[0].endswith(f" 1/{n}")
    assert all(length <= 280 for length in variant.lengths)


def test_unsplittable_url_on_bluesky_says_what_to_do() -> None:
    url = "https://example.com/" + "a" * 400
    variant = build_variant("bluesky", f"Read {url}")
    assert not variant.valid
    assert "cannot be split" in variant.problems[0]
    assert "link card" in variant.problems[0]


def test_too_many_parts_says_by_how_much() -> None:
    variant = build_variant("x", "word " * 20000, max_parts=5)
    assert not variant.valid
    assert "at most 5" in variant.problems[0]
    assert "shorten by about" in variant.problems[0]


def test_empty_text_is_invalid_with_reason() -> None:
    variant = build_variant("x", "   ")
    assert not variant.valid
    assert "empty" in variant.problems[0]


def test_hashtags_merge_dedupe_cap_and_placement() -> None:
    assert tags_to_add("Hello #DevOps", ["devops", "#Platform", "sre", "k8s"], "x") == ["#Platform"]
    assert merge_hashtags("Hello", ["a", "b"], "linkedin") == "Hello\n\n#a #b"
    variant = fit_post("x", "word " * 60, ["#one", "#two", "#three"])
    assert variant.parts[-1].endswith("#one #two")  # cap 2 on X, on the last part
    tight = fit_post("x", "a" * 279, ["#toolong"])
    assert tight.parts == ["a" * 279]  # skipped: it does not fit


def test_guardrails() -> None:
    found = guardrails.check(
        "Our SYNERGY is great, see https://sub.spam.example/x",
        banned_phrases=["synergy", "leverage"],
        recent_bodies=[],
        blocked_domains=["spam.example"],
    )
    assert {v.code for v in found} == {"banned_phrase", "blocked_domain"}
    assert not guardrails.check("synergyzing", banned_phrases=["synergy"])  # word boundaries
    base = "Platform teams succeed when they treat developers as customers. " * 5
    assert guardrails.check(base + " Really.", recent_bodies=[base])[0].code == "near_duplicate"
    assert not guardrails.check("Something entirely different about hiring.", recent_bodies=[base])
    assert guardrails.check(" ")[0].code == "empty"


def test_near_duplicate_check_is_fast_for_200_long_posts() -> None:
    import time

    rng = random.Random(1)
    words = ["alpha", "beta", "gamma", "delta", "platform", "team", "ship", "measure"]
    recent = [" ".join(rng.choice(words) for _ in range(450)) for _ in range(200)]
    started = time.perf_counter()
    guardrails.check(" ".join(rng.choice(words) for _ in range(450)), recent_bodies=recent)
    assert time.perf_counter() - started < 20  # sanity bound only; figures go in benchmarks


@pytest.mark.parametrize("platform", ["x", "bluesky", "linkedin", "webhook"])
def test_to_dict_shape(platform: str) -> None:
    data = build_variant(platform, "hello").to_dict()
    assert set(data) == {"platform", "parts", "lengths", "valid", "problems"}
    assert grapheme_length("hello") == 5 and utf8_length("hello") == 5
