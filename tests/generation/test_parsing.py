"""Reading a post out of what real (and weak) models answer."""

from __future__ import annotations

import pytest

from digipersona.generation import AIProviderError, DraftRequest, PersonaProfile
from digipersona.generation.parsing import read_post
from tests.generation.conftest import LLMHarness


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"post": "Ship small. Ship often."}', "Ship small. Ship often."),
        ('Sure! Here it is:\n{"post": "Ship small."}\nHope it helps.', "Ship small."),
        ('```json\n{"post": "Line one.\\nLine two."}\n```', "Line one.\nLine two."),
        ('[{"text": "First."}, {"text": "Second."}]', "First."),
        ('{"posts": ["Only this one."]}', "Only this one."),
        ('{"Post": "Capitalised key."}', "Capitalised key."),
        # Cut off by the token budget: the last whole sentence, never half a word.
        ('{"post": "Written updates work. Meetings drag on and on becau', "Written updates work."),
        (
            '{"post": "No sentence end but several words here and a partia',
            "No sentence end but several words here and a",
        ),
        ("Plain text, no JSON at all.", "Plain text, no JSON at all."),
        ('{"unrelated": 3}', ""),
        ("{{{{", ""),
        ("", ""),
    ],
)
def test_read_post(raw: str, expected: str) -> None:
    assert read_post(raw) == expected


def test_unusable_answers_are_dropped_not_a_500(
    openai_llm: LLMHarness, persona: PersonaProfile
) -> None:
    openai_llm.fake.script(
        '{"post": "A usable draft."}', '{"nope": 1}', '```json\n{"post": "Fenced."}\n```'
    )
    drafts = openai_llm.provider().draft(
        DraftRequest(persona=persona, brief="Written updates", count=3, seed=1)
    )
    assert [d.body for d in drafts] == ["A usable draft.", "Fenced."]


def test_no_usable_answer_is_a_clear_502(openai_llm: LLMHarness, persona: PersonaProfile) -> None:
    openai_llm.fake.script('{"nope": 1}', "[]")
    with pytest.raises(AIProviderError) as caught:
        openai_llm.provider().draft(
            DraftRequest(persona=persona, brief="Written updates", count=2, seed=1)
        )
    assert caught.value.status_code == 502
    assert caught.value.reason == "malformed"
    assert "no post" in caught.value.message


def test_server_without_structured_output_is_asked_in_plain_words(
    openai_llm: LLMHarness, persona: PersonaProfile
) -> None:
    openai_llm.fake.fail_next(400, times=2, message="Unknown parameter: 'response_format'.")
    (draft,) = openai_llm.provider().draft(DraftRequest(persona=persona, brief="Written updates"))
    first, second, third = openai_llm.fake.generation_requests()
    assert first.json["response_format"]["type"] == "json_schema"
    assert second.json["response_format"]["type"] == "json_object"  # llama.cpp's form
    assert "response_format" not in third.json
    assert draft.body
