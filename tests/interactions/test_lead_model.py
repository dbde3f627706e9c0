"""The learned lead model: the shipped corpus, the file format, scoring, reasons, the persona's
offering and not-a-lead list, the rules' veto."""

from __future__ import annotations

import io
import json
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from digipersona.interactions import lead_model, leads
from digipersona.interactions.lead_model import LeadModel, features, shipped_model
from digipersona.interactions.lead_training import corpus_path, load_corpus
from digipersona.interactions.leads import LeadContext, score_lead

ROOT = Path(__file__).resolve().parents[2]
LANGS = {"en", "de", "fr", "es", "pt", "it"}
HARD_NEGATIVES = {
    "recruiter",
    "vendor_pitch",
    "free_advice",
    "sarcasm",
    "praise",
    "disagreement",
    "spam",
}
MISSED_KINDS = {
    "interim",
    "workshop_booking",
    "proposal",
    "exec_call",
    "rfp",
    "new_clients",
    "advisory",
    "course",
}


def test_the_corpus_is_large_multilingual_balanced_and_covers_the_hard_cases() -> None:
    assert corpus_path() == ROOT / "data" / "leads" / "train.jsonl"
    lines = corpus_path().read_text(encoding="utf-8").splitlines()
    items = [json.loads(line) for line in lines if line.strip()]
    assert len(items) >= 1000
    for item in items:
        assert set(item) == {"text", "lang", "label", "offering", "kind"}
        assert item["offering"] in {"consulting", "workshops", "saas", "course"}
        assert isinstance(item["label"], bool) and item["text"].strip()
    assert len({i["text"] for i in items}) == len(items), "duplicate corpus entries"
    by_lang = Counter(i["lang"] for i in items)
    assert set(by_lang) == LANGS
    for lang in LANGS:
        share = sum(i["label"] for i in items if i["lang"] == lang) / by_lang[lang]
        assert 0.4 <= share <= 0.6, (lang, share)
        kinds = {i["kind"] for i in items if i["lang"] == lang}
        assert kinds >= HARD_NEGATIVES | MISSED_KINDS, (
            lang,
            (HARD_NEGATIVES | MISSED_KINDS) - kinds,
        )
    assert len(load_corpus()) == len(items)


def test_the_shipped_model_is_plain_arrays_and_json_with_measured_figures() -> None:
    data = (ROOT / "src" / "digipersona" / "interactions" / lead_model.SHIPPED_FILE).read_bytes()
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        assert all(npz[name].dtype != object for name in npz.files)
    model = shipped_model()
    assert model.meta["n"] >= 1000
    figures = model.metrics["combined"]
    assert 0.8 <= figures["precision"] <= 1 and 0.8 <= figures["recall"] <= 1
    again = LeadModel.from_bytes(model.to_bytes())
    for text in ("Can we talk?", "Great post!", "Wie buchen wir Sie für einen Workshop?"):
        assert again.probability(text) == pytest.approx(model.probability(text), abs=1e-6)


@pytest.mark.parametrize("data", [b"", b"not a zip", b"PK\x03\x04broken"])
def test_an_unreadable_model_file_is_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError, match="lead model"):
        LeadModel.from_bytes(data)


def test_features_are_stable_hashes_folded_and_normalised() -> None:
    # CRC-32, not Python's salted hash(): the same buckets in every process and version.
    assert lead_model._bucket("w abc") == zlib.crc32(b"w abc") & lead_model.MASK
    vector = features("Êtes-vous DISPONIBLE en 2027 ?")
    assert vector == features("etes-vous disponible en 0000 ?")
    assert sum(v * v for v in vector.values()) == pytest.approx(1.0)
    assert features("   ") == {} and features("!!!") == {}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (
            "How would we go about booking you for a training day with our support staff?",
            "workshop",
        ),
        (
            "Would you be open to stepping in as fractional head of product for a few months?",
            "interim",
        ),
        ("Sind Sie derzeit offen für neue Mandanten?", None),
        ("Possiamo avere un preventivo per una consulenza sul nostro e-commerce?", None),
        ("Onde posso comprar o curso para mim?", "course"),
    ],
)
def test_the_model_finds_leads_the_rules_did_not_know_and_says_what_they_resemble(
    text: str, kind: str | None
) -> None:
    result = score_lead(text)
    assert result.is_lead, result
    first = result.reasons[0]
    assert first.startswith("model ") and "similar to past enquiries about" in first
    if kind:
        assert kind in first, first


@pytest.mark.parametrize(
    "text",
    [
        "We're hiring a senior consultant, full-time in Berlin. Interested in the role?",
        "Wir bieten SEO für Berater an. Dürfen wir Ihnen ein Angebot schicken?",
        "We're a startup with no budget, could you give us some free advice on our deck?",
        "Check out my crypto signals, DM me now!",
    ],
)
def test_hard_negatives_stay_below_the_threshold(text: str) -> None:
    result = score_lead(text)
    assert not result.is_lead, result


def test_the_rules_veto_spam_and_job_seekers_whatever_the_model_says() -> None:
    result = score_lead("Are you hiring? I'm looking for a job, here's my CV. Can we talk?")
    assert "job_seeker" in result.signals
    assert not result.is_lead
    spam = score_lead("Follow me for giveaways! Check out my page, can we talk?")
    assert "rules_veto" in spam.signals and not spam.is_lead


def test_the_offering_weighs_what_the_persona_sells() -> None:
    text = "How do we book you for a half-day workshop with our managers?"
    plain = score_lead(text)
    fits = score_lead(text, context=LeadContext(offering="workshops"))
    assert fits.score > plain.score
    assert "fits what this persona offers (workshops)" in fits.reasons
    course = "Where can I buy the course? I want to enrol in the next cohort."
    elsewhere = score_lead(course, context=LeadContext(offering="consulting"))
    assert elsewhere.score < score_lead(course).score
    assert any("does not offer" in r for r in elsewhere.reasons)


def test_the_not_a_lead_list_caps_the_score_and_says_why() -> None:
    text = "Can we talk about a guest post on your blog? We have budget."
    assert score_lead(text).is_lead
    result = score_lead(text, context=LeadContext(not_leads=("Guest Post",)))
    assert not result.is_lead
    assert "on this persona's not-a-lead list: 'Guest Post'" in result.reasons
    # Whole words only: "post" alone does not match "poster".
    kept = score_lead(
        "Can we talk about a poster for our event?", context=LeadContext(not_leads=("post",))
    )
    assert "not_a_lead_list" not in kept.signals


def test_without_a_readable_model_the_rules_score_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> LeadModel:
        raise ValueError("lead model of an unknown format")

    monkeypatch.setattr(leads, "shipped_model", broken)
    result = score_lead("Can we talk?")
    assert result.is_lead and "model_unavailable" in result.signals
    assert any("learned model unavailable (ValueError)" in r for r in result.reasons)
    assert result.score == score_lead("Can we talk?", model=None).score
