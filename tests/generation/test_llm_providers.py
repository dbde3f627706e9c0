"""Both SDK providers against their fake servers over loopback."""

from __future__ import annotations

import time

import pytest

from digipersona.exceptions import ValidationFailed
from digipersona.generation import (
    STRUCTURES,
    AIConfigError,
    AIProviderError,
    DraftRequest,
    LLMConfig,
    PersonaProfile,
    get_provider,
)
from digipersona.generation.textkit import weighted_length
from tests.fakes.server import free_port
from tests.generation.conftest import LLMHarness

BRIEF = "We replaced our weekly status meeting with a written update. Decisions got faster."


def _request(persona: PersonaProfile, **kwargs: object) -> DraftRequest:
    return DraftRequest(persona=persona, brief=BRIEF, **kwargs)  # type: ignore[arg-type]


def test_drafts_one_call_each_with_distinct_structures(
    llm: LLMHarness, persona: PersonaProfile
) -> None:
    drafts = llm.provider().draft(_request(persona, count=3, seed=4))
    assert len(drafts) == 3
    assert len({d.structure for d in drafts}) == 3
    assert all(d.structure in STRUCTURES for d in drafts)
    assert {d.provider for d in drafts} == {llm.config.provider}
    assert {d.model for d in drafts} == {"test-model"}
    assert {d.prompt_version for d in drafts} == {"draft_v2"}
    assert all(d.body.startswith("Echo from the fake model. Brief: We replaced") for d in drafts)
    calls = llm.fake.generation_requests()
    assert len(calls) == 3
    assert all(c.json["model"] == "test-model" for c in calls)
    assert all(not c.json.get("stream") for c in calls)


def test_prompt_carries_persona_brief_language_and_structure(
    llm: LLMHarness, persona: PersonaProfile
) -> None:
    german = PersonaProfile(**{**persona.__dict__, "language": "de"})
    # A German answer: an English one is rejected by the persona's language (test_persona_rules).
    llm.fake.script(
        "Schriftliche Updates statt Statusmeetings: weniger Termine, mehr Ruhe im Team."
    )
    llm.provider().draft(
        _request(german, structure="list", link="https://ex.com/a", source_title="Async by default")
    )
    prompt = llm.fake.last.prompt_text()
    for expected in (
        "Ada Lovelace",
        "warm, curious, plain-spoken",
        "engineering managers",
        '"game changer"; "synergy"',
        "German",
        "Fewer meetings. More focus.",
        BRIEF,
        "Structure: List",
        "“Async by default”",
        "https://ex.com/a",
    ):
        assert expected in prompt


def test_auth_headers_follow_the_wire_format(llm: LLMHarness, persona: PersonaProfile) -> None:
    llm.provider().draft(_request(persona))
    headers = llm.fake.last.headers
    if llm.config.provider == "openai":
        assert headers["authorization"] == "Bearer test-key"
    else:
        assert headers["x-api-key"] == "test-key"
        assert headers["anthropic-version"]
        assert llm.fake.last.json["max_tokens"] > 0


def test_model_text_is_cleaned_and_banned_phrases_removed(
    llm: LLMHarness, persona: PersonaProfile
) -> None:
    llm.fake.script(
        'Here is your post:\n"Written updates beat meetings. It was a real game changer. Try it."'
    )
    (draft,) = llm.provider().draft(_request(persona))
    assert draft.body == "Written updates beat meetings. Try it."


def test_over_long_draft_is_shortened_once_by_the_model(
    llm: LLMHarness, persona: PersonaProfile
) -> None:
    llm.fake.script("word " * 200, '{"post": "Written updates beat meetings. Try it."}')
    (draft,) = llm.provider().draft(_request(persona, platforms=["x"]))
    assert draft.body == "Written updates beat meetings. Try it."
    first, second = llm.fake.generation_requests()
    assert "At most 250 characters" in first.prompt_text()
    assert "the limit is 270" in second.prompt_text()
    assert len(draft.usage) == 2


def test_still_too_long_for_x_stays_whole_for_a_thread(
    llm: LLMHarness, persona: PersonaProfile
) -> None:
    long = "Written updates beat meetings. " * 20
    llm.fake.script(long, long + "And more.")
    (draft,) = llm.provider().draft(_request(persona, platforms=["x"]))
    # Not cut mid-word, not cut at all: X and Bluesky publish it as a thread.
    assert draft.body == long.strip()
    assert len(llm.fake.generation_requests()) == 2  # one shortening attempt, no more


def test_still_too_long_for_linkedin_is_cut_at_a_sentence(
    llm: LLMHarness, persona: PersonaProfile
) -> None:
    long = "Written updates beat status meetings every week. " * 80
    llm.fake.script(long, long)
    (draft,) = llm.provider().draft(_request(persona, platforms=["linkedin"]))
    assert weighted_length(draft.body) <= 2800
    assert draft.body.endswith("every week.")


def test_bad_key_is_a_400_naming_the_setting(llm: LLMHarness, persona: PersonaProfile) -> None:
    with pytest.raises(AIConfigError) as caught:
        llm.provider(api_key="wrong-key").draft(_request(persona))
    assert caught.value.status_code == 400
    assert "DIGIPERSONA_LLM_API_KEY" in caught.value.message
    assert "wrong-key" not in caught.value.message
    assert len(llm.fake.requests) == 1  # a 401 is not retried


def test_unknown_model_is_a_400_naming_the_setting(
    llm: LLMHarness, persona: PersonaProfile
) -> None:
    with pytest.raises(AIConfigError) as caught:
        llm.provider(model="no-such-model").draft(_request(persona))
    assert caught.value.status_code == 400
    assert "DIGIPERSONA_LLM_MODEL" in caught.value.message
    assert "no-such-model" in caught.value.message


def test_wrong_base_url_names_the_setting(llm: LLMHarness, persona: PersonaProfile) -> None:
    with pytest.raises(AIConfigError, match="DIGIPERSONA_LLM_BASE_URL"):
        llm.provider(base_url=llm.config.base_url + "/nowhere").draft(_request(persona))


def test_rate_limit_then_success_is_retried(llm: LLMHarness, persona: PersonaProfile) -> None:
    llm.fake.fail_next(429)
    (draft,) = llm.provider().draft(_request(persona))
    assert draft.body
    calls = llm.fake.generation_requests()
    assert len(calls) == 2
    assert calls[1].headers.get("x-stainless-retry-count") == "1"


def test_rate_limit_past_retries_is_a_502(llm: LLMHarness, persona: PersonaProfile) -> None:
    llm.fake.fail_next(429, 3)
    with pytest.raises(AIProviderError) as caught:
        llm.provider().draft(_request(persona))
    assert caught.value.status_code == 502
    assert caught.value.reason == "rate_limited"


@pytest.mark.parametrize("status", [500, 503, 529])
def test_server_errors_exhausting_retries_are_502(
    llm: LLMHarness, persona: PersonaProfile, status: int
) -> None:
    llm.fake.fail_next(status, 3, retry_after_ms=5)
    with pytest.raises(AIProviderError) as caught:
        llm.provider().draft(_request(persona))
    assert caught.value.status_code == 502
    assert caught.value.reason == "server_error"
    assert f"HTTP {status}" in caught.value.message
    assert len(llm.fake.generation_requests()) == 3  # first try + max_retries


def test_one_server_error_is_retried_away(llm: LLMHarness, persona: PersonaProfile) -> None:
    llm.fake.fail_next(500, retry_after_ms=5)
    assert llm.provider().draft(_request(persona))[0].body


def test_timeout_is_a_502(llm: LLMHarness, persona: PersonaProfile) -> None:
    llm.fake.delay_next(6.0)
    started = time.monotonic()
    with pytest.raises(AIProviderError) as caught:
        llm.provider(timeout_seconds=0.5, max_retries=0).draft(_request(persona))
    assert time.monotonic() - started < 4.0  # the timeout, not the 6 s answer (margin for load)
    assert caught.value.status_code == 502
    assert caught.value.reason == "timeout"
    assert "DIGIPERSONA_LLM_TIMEOUT_SECONDS" in caught.value.message


def test_slow_but_in_time_answer_succeeds(llm: LLMHarness, persona: PersonaProfile) -> None:
    llm.fake.delay_next(0.2)
    assert llm.provider(timeout_seconds=3).draft(_request(persona))[0].body


def test_unreachable_server_is_a_502(llm: LLMHarness, persona: PersonaProfile) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(AIProviderError) as caught:
        llm.provider(base_url=url, max_retries=0).draft(_request(persona))
    assert caught.value.reason == "unreachable"
    assert url in caught.value.message


@pytest.mark.parametrize(
    ("inject", "reason"),
    [
        (lambda f: f.malformed_next(3), "malformed"),
        (lambda f: f.malformed_next(3, kind="missing_fields"), "malformed"),
        (lambda f: f.empty_next(), "empty"),
        (lambda f: f.refuse_next(message="I won't write that."), "refused"),
        (lambda f: f.script("   \n  "), "empty"),
    ],
    ids=["not-json", "missing-fields", "empty-content", "refusal", "blank-text"],
)
def test_unusable_answers_are_502_with_a_reason(
    llm: LLMHarness, persona: PersonaProfile, inject: object, reason: str
) -> None:
    inject(llm.fake)  # type: ignore[operator]
    with pytest.raises(AIProviderError) as caught:
        llm.provider().draft(_request(persona))
    assert caught.value.status_code == 502
    assert caught.value.reason == reason
    assert caught.value.to_problem()["reason"] == reason


def test_openai_refusal_text_is_shown(openai_llm: LLMHarness, persona: PersonaProfile) -> None:
    openai_llm.fake.refuse_next(message="I can't help with that request.")
    with pytest.raises(AIProviderError, match="I can't help with that request"):
        openai_llm.provider().draft(_request(persona))


def test_openai_content_filter_is_a_refusal(
    openai_llm: LLMHarness, persona: PersonaProfile
) -> None:
    openai_llm.fake.content_filter_next()  # type: ignore[attr-defined]
    with pytest.raises(AIProviderError) as caught:
        openai_llm.provider().draft(_request(persona))
    assert caught.value.reason == "refused"


def test_openai_sends_the_seed_when_given(openai_llm: LLMHarness, persona: PersonaProfile) -> None:
    openai_llm.provider().draft(_request(persona, seed=11))
    seeded = openai_llm.fake.last.json["seed"]
    openai_llm.provider().draft(_request(persona, seed=11))
    assert openai_llm.fake.last.json["seed"] == seeded
    openai_llm.provider().draft(_request(persona))
    assert "seed" not in openai_llm.fake.last.json


def test_suggest_sends_the_instruction_and_text(llm: LLMHarness, persona: PersonaProfile) -> None:
    llm.fake.script("Kurz und klar.")
    result = llm.provider().suggest(persona, "Short and clear.", "translate", target_language="de")
    assert result == "Kurz und klar."
    prompt = llm.fake.last.prompt_text()
    assert "Translate this post into German" in prompt
    assert "Short and clear." in prompt


def test_suggest_validates_before_calling(llm: LLMHarness, persona: PersonaProfile) -> None:
    with pytest.raises(ValidationFailed):
        llm.provider().suggest(persona, "Text.", "translate")
    with pytest.raises(ValidationFailed):
        llm.provider().suggest(persona, "Text.", "rhyme")
    assert llm.fake.requests == []


def test_reply_uses_the_persona_and_the_comment(llm: LLMHarness, persona: PersonaProfile) -> None:
    llm.fake.script("Thanks Grace, glad it helped!")
    text = llm.provider().reply(persona, "Loved this, how do you run standups?", "Grace Hopper")
    assert text == "Thanks Grace, glad it helped!"
    prompt = llm.fake.last.prompt_text()
    assert "Grace Hopper wrote:" in prompt
    assert "how do you run standups?" in prompt
    assert "warm, curious" in prompt


def test_classify_lead_reads_json_and_tolerates_garbage(
    llm: LLMHarness, persona: PersonaProfile
) -> None:
    provider = llm.provider()
    llm.fake.script('Sure: {"score": 87, "reasons": ["asks for pricing"]}')
    assert provider.classify_lead("What does it cost for 20 seats?") == (87, ["asks for pricing"])
    llm.fake.script("I think it is a lead.")
    assert provider.classify_lead("Pricing?") is None
    llm.fake.script('{"score": 250, "reasons": "demo"}')
    assert provider.classify_lead("Demo?") == (100, ["demo"])


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_missing_model_or_key_fail_at_construction(provider: str) -> None:
    with pytest.raises(AIConfigError, match="DIGIPERSONA_LLM_MODEL"):
        get_provider(LLMConfig(provider=provider, api_key="k"))
    with pytest.raises(AIConfigError, match="DIGIPERSONA_LLM_API_KEY"):
        get_provider(LLMConfig(provider=provider, model="m"))


def test_openai_local_server_needs_no_key(openai_llm: LLMHarness, persona: PersonaProfile) -> None:
    openai_llm.fake.api_keys.add("no-key-needed")
    provider = openai_llm.provider(api_key=None)
    assert provider.draft(_request(persona))[0].body
