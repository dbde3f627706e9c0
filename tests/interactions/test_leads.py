"""Lead scoring: signal families, negatives, languages, the LLM hook, bounds and the corpus gate."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from digipersona.generation.providers.template import TemplateProvider
from digipersona.interactions.lead_rules import LANGUAGES, RULES
from digipersona.interactions.leads import LEAD_THRESHOLD, LeadScore, normalise, score_lead

CORPUS = Path(__file__).with_name("lead_corpus.jsonl")
HOLDOUT_EVERY = 4


def _load_corpus() -> list[dict[str, object]]:
    with CORPUS.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _precision_recall(items: list[dict[str, object]]) -> tuple[float, float]:
    tp = fp = fn = 0
    for item in items:
        predicted = score_lead(
            str(item["text"]),
            author_name=item.get("author_name"),  # type: ignore[arg-type]
            author_bio=item.get("author_bio"),  # type: ignore[arg-type]
        ).is_lead
        actual = bool(item["label"])
        tp += predicted and actual
        fp += predicted and not actual
        fn += actual and not predicted
    return tp / (tp + fp), tp / (tp + fn)


# ---------------------------------------------------------------------------------------------
# The corpus and the quality gate


def test_corpus_is_large_balanced_and_multilingual() -> None:
    items = _load_corpus()
    assert len(items) >= 180
    leads = sum(bool(i["label"]) for i in items)
    assert 0.35 <= leads / len(items) <= 0.45
    for lang in LANGUAGES:
        in_lang = [i for i in items if i["lang"] == lang]
        assert len(in_lang) >= 20, lang
        assert any(i["label"] for i in in_lang) and not all(i["label"] for i in in_lang), lang
    for item in items:
        assert set(item) <= {"text", "author_name", "author_bio", "lang", "label"}
        assert isinstance(item["label"], bool) and str(item["text"]).strip()
    texts = [str(i["text"]) for i in items]
    assert len(set(texts)) == len(texts), "duplicate corpus entries"


def test_quality_gate_on_whole_corpus() -> None:
    precision, recall = _precision_recall(_load_corpus())
    assert precision >= 0.85, f"precision {precision:.3f} < 0.85"
    assert recall >= 0.80, f"recall {recall:.3f} < 0.80"


def test_quality_gate_on_held_out_split() -> None:
    items = _load_corpus()
    held_out = [it for i, it in enumerate(items) if i % HOLDOUT_EVERY == HOLDOUT_EVERY - 1]
    precision, recall = _precision_recall(held_out)
    assert precision >= 0.85, f"held-out precision {precision:.3f} < 0.85"
    assert recall >= 0.80, f"held-out recall {recall:.3f} < 0.80"


# ---------------------------------------------------------------------------------------------
# The rule table


def test_every_rule_covers_all_five_languages_and_compiles() -> None:
    codes = [rule.code for rule in RULES]
    assert len(codes) == len(set(codes))
    for rule in RULES:
        assert rule.weight != 0 and rule.label
        assert set(rule.patterns) == set(LANGUAGES), rule.code
        for lang, patterns in rule.patterns.items():
            assert patterns, (rule.code, lang)
            for pattern in patterns:
                re.compile(pattern)
                # Patterns run on normalised text: an accent or capital could never match.
                assert pattern == pattern.lower() or "\\S" in pattern or "\\W" in pattern, (
                    rule.code,
                    pattern,
                )
                assert normalise(pattern) == pattern or "\\" in pattern, (rule.code, pattern)


def test_module_docstring_documents_every_rule_weight() -> None:
    from digipersona.interactions import lead_rules

    doc = lead_rules.__doc__ or ""
    for rule in RULES:
        weight = re.escape(f"{rule.weight:+.1f}")
        assert re.search(rf"^{rule.code}\s+{weight}\s", doc, re.M), rule.code


# ---------------------------------------------------------------------------------------------
# Positive signal families


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("We're looking for a partner to run our paid social next year.", "buying_intent"),
        ("We need help with our pricing page, it converts terribly.", "buying_intent"),
        ("Looking to hire someone who has done this before.", "buying_intent"),
        ("How much do you charge for a brand workshop?", "pricing_question"),
        ("What are your rates these days?", "pricing_question"),
        ("Are you available for a project in May?", "availability_question"),
        ("Do you take on new clients at the moment?", "availability_question"),
        ("Can we talk about this sometime this week?", "direct_ask"),
        ("DM me, I have something for you.", "direct_ask"),
        ("Let's book a call, I think you could help.", "direct_ask"),
        ("Do you consult on this kind of migration?", "direct_ask"),
        ("Send me your email and I'll share the brief.", "direct_ask"),
        ("Do you offer workshops for leadership teams?", "service_question"),
        ("We have a budget for this in Q4.", "budget_mention"),
    ],
)
def test_positive_signal_families_are_detected(text: str, signal: str) -> None:
    result = score_lead(text)
    assert signal in result.signals, result
    assert result.is_lead, result


def test_company_need_and_title_add_up_but_do_not_make_a_lead_alone() -> None:
    # The rules alone (model=None): the learned model is tested in test_lead_model.py.
    plain = score_lead("Our team ran into the same wall last spring.", model=None)
    assert "company_need" in plain.signals and not plain.is_lead
    with_title = score_lead(
        "Our team ran into the same wall last spring.",
        author_bio="VP Marketing at Acme",
        model=None,
    )
    assert "job_title" in with_title.signals
    assert plain.score < with_title.score < LEAD_THRESHOLD


@pytest.mark.parametrize(
    "bio", ["CEO & Co-founder, Tinybird", "Head of Procurement", "Hiring manager at Zest"]
)
def test_job_title_in_bio_raises_the_score(bio: str) -> None:
    text = "Can we talk about this next week?"
    assert score_lead(text, author_bio=bio, model=None).score > score_lead(text, model=None).score
    assert "job_title" in score_lead(text, author_bio=bio).signals


def test_company_like_author_name_is_a_small_signal() -> None:
    text = "Could you send us a proposal for this?"
    assert "company_account" in score_lead(text, author_name="Nordlicht GmbH").signals
    assert "company_account" not in score_lead(text, author_name="Lena Nord").signals


def test_a_strong_ask_with_context_scores_high() -> None:
    result = score_lead(
        "We're looking for a consultant for our team. What are your rates? Can we talk?",
        author_bio="Founder & CEO",
    )
    assert result.score >= 90


# ---------------------------------------------------------------------------------------------
# Negative signals


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("Are you hiring? I'm looking for a job in analytics.", "job_seeker"),
        ("Here's my resume in case you need a junior designer.", "job_seeker"),
        ("Check out my profile for daily tips! Follow me!", "spam"),
        ("Huge crypto giveaway, DM me to claim", "spam"),
        ("We offer SEO services at great prices, DM me.", "vendor_pitch"),
        ("I can help you grow your audience, let's connect!", "vendor_pitch"),
        ("We're not looking for an agency, and we have no budget.", "negated"),
        ("How much did that cost you in the end?", "curiosity"),
        ("See you at the conference, let's chat there!", "networking"),
        ("Does anyone know a good tool for this?", "peer_question"),
    ],
)
def test_negative_signals_pull_below_the_threshold(text: str, signal: str) -> None:
    result = score_lead(text)
    assert signal in result.signals, result
    assert not result.is_lead, result


def test_pure_praise_is_flagged_only_without_a_request() -> None:
    praise = score_lead("Great post, love this!")
    assert "praise_only" in praise.signals and not praise.is_lead
    assert any(r.startswith("pure praise") for r in praise.reasons)
    praise_then_ask = score_lead("Great post! How much do you charge for a workshop?")
    assert "praise_only" not in praise_then_ask.signals
    assert praise_then_ask.is_lead


def test_a_vendor_using_lead_words_is_not_a_lead() -> None:
    ask = score_lead("DM me, can we talk?")
    pitch = score_lead("We offer web development services. DM me, can we talk?")
    assert ask.is_lead and not pitch.is_lead


def test_negation_in_the_same_clause_cancels_a_positive_match() -> None:
    negated = score_lead("Honestly we don't need help with onboarding.")
    assert "buying_intent" not in negated.signals and "negated" in negated.signals
    # A negator in an earlier clause does not reach the request.
    other_clause = score_lead("Not sure it fits, but we need help with onboarding.")
    assert "buying_intent" in other_clause.signals


def test_negation_exceptions_keep_the_request() -> None:
    result = score_lead("Why not book a call next week?")
    assert "direct_ask" in result.signals and result.is_lead
    assert "negated" not in result.signals


def test_bio_of_a_job_seeker_lowers_the_score() -> None:
    text = "Can we talk?"
    seeker = score_lead(text, author_bio="Student | #OpenToWork")
    assert "bio_job_seeker" in seeker.signals
    assert seeker.score < score_lead(text).score


# ---------------------------------------------------------------------------------------------
# Languages and normalisation


@pytest.mark.parametrize(
    ("text", "lead"),
    [
        ("Können wir nächste Woche telefonieren? Wir suchen einen Berater.", True),
        ("Was kostet bei Ihnen ein Tagesworkshop? Unser Team hat Bedarf.", True),
        ("Stellen Sie ein? Ich suche eine Stelle als Entwickler.", False),
        ("Toller Beitrag, danke fürs Teilen!", False),
        ("Êtes-vous disponible en juin ? Nous cherchons un formateur.", True),
        ("Combien facturez-vous pour une mission de conseil ?", True),
        ("Nous proposons des services SEO, contactez-moi !", False),
        ("Bravo, tellement vrai.", False),
        ("¿Cuánto cobras por un taller? Necesitamos ayuda con ventas.", True),
        ("¿Podemos agendar una llamada? Buscamos una agencia.", True),
        ("¿Están contratando? Busco empleo.", False),
        ("Me encanta, gracias por compartir.", False),
        ("Quanto você cobra por uma mentoria? Precisamos de ajuda.", True),
        ("Podemos conversar? Estamos procurando uma consultoria.", True),
        ("Vocês estão contratando? Procuro emprego.", False),
        ("Ótimo post, parabéns!", False),
    ],
)
def test_languages(text: str, lead: bool) -> None:
    result = score_lead(text)
    assert result.is_lead is lead, result


def test_normalise_strips_accents_case_and_typographic_quotes() -> None:
    assert normalise("  ÊTES-VOUS\u00a0disponible ?") == "etes-vous disponible ?"
    assert normalise("We\u2019re LOOKING  for") == "we're looking for"
    assert normalise("Orçamento für Straße") == "orcamento fur strasse"
    # A decomposed accent (e + combining acute) folds the same as the precomposed one.
    assert normalise("cafe\u0301") == normalise("café") == "cafe"


def test_accent_free_and_accented_spellings_score_the_same() -> None:
    accented = score_lead("Êtes-vous disponible ? Pourriez-vous nous faire un devis ?")
    plain = score_lead("etes-vous disponible ? pourriez-vous nous faire un devis ?")
    assert accented.score == plain.score and accented.signals == plain.signals


def test_reasons_quote_the_original_words() -> None:
    result = score_lead("Êtes-vous disponible le mois prochain ?")
    assert "asks about availability: 'Êtes-vous disponible'" in result.reasons
    result = score_lead("So... how much do you CHARGE for that?")
    assert "asks about pricing: 'how much do you CHARGE'" in result.reasons


# ---------------------------------------------------------------------------------------------
# The optional LLM classifier


class _FixedClassifier:
    def __init__(self, answer: tuple[int, list[str]] | None) -> None:
        self.answer = answer
        self.calls: list[str] = []

    def classify_lead(self, text: str) -> tuple[int, list[str]] | None:
        self.calls.append(text)
        return self.answer


class _BrokenClassifier:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def classify_lead(self, text: str) -> tuple[int, list[str]] | None:
        raise self.exc


def test_llm_score_is_averaged_and_its_reasons_marked() -> None:
    text = "Great post, love this!"
    rules = score_lead(text)
    llm = _FixedClassifier((90, ["mentions a need the author serves"]))
    blended = score_lead(text, llm=llm)
    assert llm.calls == [text]
    assert blended.score == round((rules.score + 90) / 2)
    assert blended.reasons[: len(rules.reasons)] == rules.reasons
    assert "AI: mentions a need the author serves" in blended.reasons
    assert all(r.startswith("AI:") for r in blended.reasons[len(rules.reasons) :])
    assert "llm" in blended.signals


def test_llm_can_pull_a_rules_lead_below_the_threshold() -> None:
    text = "Can we talk?"
    assert score_lead(text, model=None).is_lead
    assert not score_lead(text, llm=_FixedClassifier((5, ["sarcastic"])), model=None).is_lead


@pytest.mark.parametrize(
    "exc", [RuntimeError("boom"), TimeoutError("slow"), ValueError("bad json"), KeyError("x")]
)
def test_llm_failure_falls_back_to_the_rules(exc: Exception) -> None:
    text = "How much do you charge for a workshop?"
    rules = score_lead(text)
    result = score_lead(text, llm=_BrokenClassifier(exc))
    assert result.score == rules.score and result.is_lead == rules.is_lead
    assert result.reasons[:-1] == rules.reasons
    assert "AI classifier unavailable" in result.reasons[-1]
    assert type(exc).__name__ in result.reasons[-1]
    assert "llm_unavailable" in result.signals


@pytest.mark.parametrize("answer", [("high", []), (50, "not a list"), [70, []], (True, [])])
def test_llm_malformed_answer_counts_as_unavailable(answer: object) -> None:
    llm = _FixedClassifier(answer)  # type: ignore[arg-type]
    result = score_lead("Can we talk?", llm=llm)
    assert result.score == score_lead("Can we talk?").score
    assert "llm_unavailable" in result.signals


def test_llm_out_of_range_score_is_clamped() -> None:
    result = score_lead("Great post!", llm=_FixedClassifier((250, [])))
    assert 0 <= result.score <= 100
    assert result.score == round((score_lead("Great post!").score + 100) / 2)


def test_llm_abstaining_leaves_the_rules_score() -> None:
    text = "Can we talk?"
    result = score_lead(text, llm=_FixedClassifier(None))
    assert result.score == score_lead(text).score
    assert result.reasons == score_lead(text).reasons
    assert "llm_abstained" in result.signals


def test_a_generation_provider_is_a_valid_classifier() -> None:
    provider = TemplateProvider()
    result = score_lead("Are you taking on new clients?", llm=provider)
    assert result.is_lead
    assert "llm_abstained" in result.signals  # the template provider has no opinion


def test_llm_is_not_called_for_empty_text() -> None:
    llm = _FixedClassifier((99, ["x"]))
    assert score_lead("   ", llm=llm).score == 0
    assert llm.calls == []


# ---------------------------------------------------------------------------------------------
# Bounds, empty text, the result object


@pytest.mark.parametrize("text", ["", "   \n\t ", None])
def test_empty_text_scores_zero_with_a_reason(text: str | None) -> None:
    result = score_lead(text)
    assert result.score == 0 and result.is_lead is False
    assert result.reasons and "empty" in result.reasons[0]
    assert result.signals == ["empty"]


def test_no_signal_gives_a_low_score_and_says_so() -> None:
    rules = score_lead("The weather in Lisbon was lovely today.", model=None)
    assert rules.score < 10 and not rules.is_lead
    assert rules.reasons == ["no lead signals found"] and rules.signals == []
    # With the model, its verdict comes first and says it is no enquiry.
    result = score_lead("The weather in Lisbon was lovely today.")
    assert result.score < 20 and not result.is_lead
    assert result.reasons[0].startswith("model ") and "not an enquiry" in result.reasons[0]
    assert result.reasons[1:] == ["no lead signals found"] and result.signals == ["model"]


def test_scores_stay_in_bounds_at_the_extremes() -> None:
    everything = " ".join(
        [
            "We're looking for a consultant, we need help with this, send us a proposal.",
            "How much do you charge? What are your rates? Are you available?",
            "Can we talk? DM me. Book a call. Our team, our company, for my startup.",
        ]
        * 20
    )
    top = score_lead(everything, author_name="Acme GmbH", author_bio="CEO, founder, head of sales")
    assert 95 <= top.score <= 100 and top.is_lead
    worst = score_lead(
        "Are you hiring? Check out my page, follow me! Crypto giveaway! We offer SEO services."
        " No budget. Great post!",
        author_bio="open to work, student",
    )
    assert worst.score == 0 and not worst.is_lead


def test_is_lead_matches_threshold_on_every_corpus_item() -> None:
    for item in _load_corpus():
        result = score_lead(str(item["text"]), author_bio=item.get("author_bio"))  # type: ignore[arg-type]
        assert 0 <= result.score <= 100
        assert result.is_lead == (result.score >= LEAD_THRESHOLD)
        assert result.reasons and all(isinstance(r, str) and r for r in result.reasons)


def test_repeating_one_signal_has_a_capped_bonus() -> None:
    once = score_lead("Budget?", model=None)
    many = score_lead("Budget. Quote? Proposal. RFP. Retainer. Budget budget budget.", model=None)
    assert once.signals == many.signals == ["budget_mention"]
    assert once.score < many.score <= LEAD_THRESHOLD
    assert many.score < score_lead("Budget? Can we talk?", model=None).score


def test_lead_score_is_frozen_and_serialises() -> None:
    result = score_lead("Can we talk?")
    assert isinstance(result, LeadScore)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.score = 1  # type: ignore[misc]
    as_dict = result.to_dict()
    assert as_dict == {"score": result.score, "is_lead": True, "reasons": result.reasons}
    assert json.loads(json.dumps(as_dict)) == as_dict
    as_dict["reasons"].append("mutated")
    assert "mutated" not in result.reasons


def test_each_reason_is_given_once() -> None:
    """Issue 17: "no budget" six times over listed the same negated reason six times."""
    result = score_lead("no budget, no budget. No budget!", model=None)
    assert len(result.reasons) == len(set(result.reasons)) == 2

    class Repeating:
        def classify_lead(self, text: str) -> tuple[int, list[str]] | None:
            return 70, ["asks for a call", "asks for a call"]

    reasons = score_lead("Can we book a call?", llm=Repeating()).reasons
    assert reasons.count("AI: asks for a call") == 1
