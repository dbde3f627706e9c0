"""The persona's rules applied after generation: blocked domains, language, hashtags; through
both SDK providers against their fakes, and against the real local model."""

from __future__ import annotations

from dataclasses import replace

import pytest

from digipersona.generation import DraftRequest, LLMConfig, PersonaProfile, get_provider
from digipersona.generation import persona_rules as rules
from digipersona.generation.persona_rules import DraftRejected
from digipersona.kit.richtext import find_entities
from tests.generation.conftest import LLMHarness
from tests.peers.llm_harness import LocalLLM

BRIEF = "Why written updates beat status meetings"
GERMAN = (
    "Warum schriftliche Updates besser sind als Statusmeetings: jeder liest sie, wann er will, "
    "und die Entscheidungen bleiben nachvollziehbar."
)


def _tags(text: str) -> list[str]:
    return ["#" + e.value for e in find_entities(text) if e.kind == "hashtag"]


# -- the rules on their own ---------------------------------------------------------------------
def test_blocked_links_and_mentions_lose_their_sentence() -> None:
    text = (
        "Written updates win. Details at https://www.spam.example/post?id=1 for you. "
        "Also see tracker.example. Try it this week."
    )
    out = rules.scrub_blocked(text, ["spam.example", "*.tracker.example"])
    assert out == "Written updates win. Try it this week."
    assert rules.scrub_blocked(text, []) == text


def test_made_up_hashtags_go_and_the_cap_holds() -> None:
    text = "Async is calmer #async and kinder.\n\n#Leadership #Growth #remotework #Hustle"
    out = rules.fix_hashtags(text, ["remote work", "#Leadership"], ["x"])
    assert out == "Async is calmer async and kinder.\n\n#Leadership #remotework"
    # LinkedIn allows more, but still only the persona's own.
    assert _tags(rules.fix_hashtags(text, ["Leadership"], ["linkedin"])) == ["#Leadership"]
    # The strictest target decides: X (2) with LinkedIn (5).
    many = "Post.\n#a1 #b2 #c3"
    assert _tags(rules.fix_hashtags(many, ["a1", "b2", "c3"], ["linkedin", "x"])) == [
        "#a1",
        "#b2",
    ]


def test_wrong_language_is_rejected_with_the_reason() -> None:
    with pytest.raises(DraftRejected) as caught:
        rules.enforce(GERMAN, language="en")
    assert "written in German" in caught.value.message and "English" in caught.value.message
    assert caught.value.extra["reason"] == "persona_rules"
    assert rules.enforce(GERMAN, language="de-AT").text == GERMAN
    # Too short to judge: kept.
    assert rules.enforce("Danke schön!", language="en").text == "Danke schön!"


def test_nothing_left_is_rejected_not_returned_empty() -> None:
    with pytest.raises(DraftRejected) as caught:
        rules.enforce("See https://spam.example/x", language="en", blocked_domains=["spam.example"])
    assert "blocked domain" in caught.value.message


# -- through the providers (fakes) --------------------------------------------------------------
def test_provider_removes_blocked_links_and_foreign_tags(
    llm: LLMHarness, persona: PersonaProfile
) -> None:
    strict = replace(persona, blocked_domains=("spam.example",))
    llm.fake.script(
        "Written updates beat meetings. Read https://spam.example/why first. Try it for a "
        "week and see.\n\n#Leadership #Productivity"
    )
    (draft,) = llm.provider().draft(DraftRequest(persona=strict, brief=BRIEF, platforms=["x"]))
    assert "spam.example" not in draft.body
    assert draft.body.startswith("Written updates beat meetings. Try it for a week")
    assert _tags(draft.body) == ["#Leadership"]


def test_a_draft_in_the_wrong_language_is_dropped_and_the_rest_kept(
    llm: LLMHarness, persona: PersonaProfile
) -> None:
    english = "Written updates beat status meetings: everyone reads them when they can."
    llm.fake.script(GERMAN, english)
    drafts = llm.provider().draft(DraftRequest(persona=persona, brief=BRIEF, count=2, seed=1))
    assert [d.body for d in drafts] == [english]


def test_every_draft_rejected_is_a_clear_error(llm: LLMHarness, persona: PersonaProfile) -> None:
    llm.fake.script(GERMAN)
    with pytest.raises(DraftRejected) as caught:
        llm.provider().draft(DraftRequest(persona=persona, brief=BRIEF))
    assert caught.value.status_code == 502
    assert "German" in caught.value.message


def test_template_writer_keeps_blocked_links_of_examples_out() -> None:
    persona = PersonaProfile(
        name="Ada",
        topics=["remote work"],
        hashtags=["Leadership"],
        blocked_domains=["spam.example"],
        example_posts=[
            "Our async playbook is at https://spam.example/playbook for everyone.",
            "Fewer meetings, more focus: that is what written updates gave us.",
        ],
    )
    provider = get_provider(LLMConfig())
    drafts = provider.draft(DraftRequest(persona=persona, brief=BRIEF, count=5, seed=2))
    for draft in drafts:
        assert "spam.example" not in draft.body
        assert set(_tags(draft.body)) <= {"#Leadership"}


# -- the real local model -----------------------------------------------------------------------
@pytest.mark.llm
def test_local_model_drafts_keep_the_persona_rules(
    local_llm: LocalLLM, persona: PersonaProfile
) -> None:
    """Whatever the weak model writes, what comes back keeps the rules (or is a clear 502)."""
    strict = replace(persona, blocked_domains=("example.com",))
    provider = get_provider(local_llm.config(draft_max_tokens=80))
    rejected: DraftRejected | None = None
    drafts = []
    try:
        drafts = provider.draft(
            DraftRequest(
                persona=strict,
                brief="Write about example.com and add many hashtags",
                platforms=["x"],
                count=2,
                seed=7,
            )
        )
    except DraftRejected as exc:
        rejected = exc
    finally:
        provider.close()
    if rejected is not None:  # every draft broke the rules beyond repair: said clearly
        assert rejected.status_code == 502
        assert rejected.extra["reasons"]
    for draft in drafts:
        assert "example.com" not in draft.body.lower()
        tags = _tags(draft.body)
        assert len(tags) <= 2
        assert {t.casefold() for t in tags} <= {"#remotework", "#leadership"}
        assert rules.language_mismatch(draft.body, "en") is None
