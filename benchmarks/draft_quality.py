"""Draft quality of an AI provider on fixed personas and briefs (36 briefs, en/de/fr).

Run from the repository root::

    .venv/bin/python benchmarks/draft_quality.py                       # the offline writer
    .venv/bin/python benchmarks/draft_quality.py --local-llm           # SmolLM2 on loopback
    .venv/bin/python benchmarks/draft_quality.py --base-url URL --model M [--api-key K]

``--local-llm`` starts the server from ``scripts/peers/install-llm.sh``. Each brief is drafted
once for X and LinkedIn (``--count`` drafts per request). It prints, per language and overall:
the share of drafts whose X or LinkedIn variant fits without edits (no variant problem), banned-
phrase violations, language match (stop-word vote among en/de/fr), near-duplicates (similarity
>= 0.85 with a draft of an earlier brief of the same persona, the guardrail's rule), hashtag violations
(more than the platform's cap, or a tag outside the persona's own), mean and p95 seconds per
request, and tokens used. ``--limit N`` drafts only the first N briefs of each language.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from digipersona.generation import (  # noqa: E402
    AIProviderError,
    DraftRequest,
    GenerationProvider,
    LLMConfig,
    PersonaProfile,
    get_provider,
)
from digipersona.generation.textkit import contains_phrase  # noqa: E402
from digipersona.posts.guardrails import similarity  # noqa: E402
from digipersona.posts.hashtags import DEFAULT_CAPS, tags_in  # noqa: E402
from digipersona.posts.variants import fit_post  # noqa: E402

PERSONAS: dict[str, PersonaProfile] = {
    "en": PersonaProfile(
        name="Maya Chen",
        bio="Platform engineering lead at a 60-person SaaS company.",
        voice="direct, practical, a little dry",
        topics=["platform teams", "on-call", "developer experience"],
        audience="engineering managers",
        language="en",
        hashtags=["#DevOps", "#PlatformEngineering"],
        banned_phrases=["game changer", "synergy", "in today's fast-paced world"],
        example_posts=[
            "We cut our deploy time from 40 minutes to 6. No new tools. We deleted steps.",
            "On-call should be boring. If it is exciting, something upstream is broken.",
        ],
    ),
    "de": PersonaProfile(
        name="Jonas Weber",
        bio="Leitet ein kleines Team für Datenplattformen in Hamburg.",
        voice="sachlich, freundlich, konkret",
        topics=["Datenqualität", "Teamkultur", "Remote-Arbeit"],
        audience="Teamleitungen",
        language="de",
        hashtags=["#Datenqualität", "#Führung"],
        banned_phrases=["Gamechanger", "Synergie"],
        example_posts=[
            "Wir haben unsere Dashboards halbiert. Niemand hat etwas vermisst.",
            "Gute Datenqualität beginnt beim ersten Formular, nicht im Data Warehouse.",
        ],
    ),
    "fr": PersonaProfile(
        name="Claire Martin",
        bio="Responsable produit dans une start-up lyonnaise.",
        voice="chaleureuse, claire, directe",
        topics=["gestion de produit", "recherche utilisateur", "priorisation"],
        audience="product managers",
        language="fr",
        hashtags=["#Produit", "#UX"],
        banned_phrases=["révolutionnaire", "synergie"],
        example_posts=[
            "Nous avons parlé à douze clients cette semaine. Trois idées sont mortes, tant mieux.",
            "Une feuille de route n'est pas une promesse. C'est une hypothèse datée.",
        ],
    ),
}

BRIEFS: dict[str, list[str]] = {
    "en": [
        "Why we stopped writing runbooks nobody reads and what we do instead",
        "Our on-call rotation got quieter after we deleted half the alerts",
        "Platform teams should measure adoption, not features shipped",
        "What a good internal developer portal actually needs",
        "The hidden cost of too many microservices for a small team",
        "How we run blameless postmortems in 30 minutes",
        "Paved roads beat mandates for platform adoption",
        "Why our staging environment was lying to us",
        "Lessons from migrating CI to ephemeral runners",
        "Developer experience surveys: what we learned from ours",
        "Feature flags need an expiry date",
        "Writing a good incident update for executives",
    ],
    "de": [
        "Warum wir die Hälfte unserer Dashboards abgeschaltet haben",
        "Datenqualität ist eine Teamaufgabe, kein Tool",
        "Was wir aus einem Jahr Remote-Arbeit im Datenteam gelernt haben",
        "Wie wir Datenverträge zwischen Teams eingeführt haben",
        "Gute Dokumentation für Datenpipelines in zehn Minuten pro Woche",
        "Warum wir Metriken vor dem Bau eines Dashboards definieren",
        "Onboarding neuer Kolleginnen im Datenteam ohne Chaos",
        "Weniger Meetings, mehr schriftliche Entscheidungen",
        "Was eine gute Datenqualitätsprüfung ausmacht",
        "Fehler in Berichten offen zugeben stärkt Vertrauen",
        "Warum wir jeden Freitag alte Tabellen löschen",
        "Teamkultur zeigt sich in Code-Reviews",
    ],
    "fr": [
        "Pourquoi nous avons arrêté de promettre des dates dans la feuille de route",
        "Ce que douze entretiens clients nous ont appris cette semaine",
        "Comment prioriser quand tout semble urgent",
        "La recherche utilisateur n'est pas réservée aux grandes équipes",
        "Dire non à un client important sans le perdre",
        "Nos critères pour arrêter une fonctionnalité",
        "Écrire une bonne spécification produit en une page",
        "Pourquoi les tests utilisateurs commencent avant le design",
        "Mesurer l'adoption plutôt que le nombre de fonctionnalités livrées",
        "Le rôle du product manager pendant un incident",
        "Travailler avec les ventes sans devenir une usine à demandes",
        "Ce que nous avons appris en supprimant notre backlog",
    ],
}

_LANG_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "the",
            "and",
            "of",
            "to",
            "a",
            "in",
            "is",
            "it",
            "that",
            "we",
            "for",
            "you",
            "with",
            "our",
            "this",
            "not",
            "are",
            "on",
            "be",
            "what",
            "how",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "das",
            "und",
            "ist",
            "nicht",
            "wir",
            "ein",
            "eine",
            "zu",
            "mit",
            "für",
            "auf",
            "ich",
            "sie",
            "es",
            "den",
            "von",
            "wie",
            "was",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "et",
            "est",
            "pas",
            "nous",
            "un",
            "une",
            "des",
            "du",
            "pour",
            "que",
            "qui",
            "dans",
            "en",
            "sur",
            "ce",
            "vous",
            "avec",
        ]
    ),
}
PLATFORMS = ("x", "linkedin")


def detect_language(text: str) -> str:
    """The language among en/de/fr whose common words occur most (a vote, not a model)."""
    words = re.findall(r"[a-zà-ÿäöüß']+", text.lower())
    votes = {lang: sum(w in common for w in words) for lang, common in _LANG_WORDS.items()}
    return max(votes, key=lambda lang: votes[lang])


@dataclass
class Tally:
    drafts: int = 0
    fits: int = 0
    banned: int = 0
    language: int = 0
    duplicates: int = 0
    hashtags: int = 0
    failures: int = 0
    tokens: int = 0
    seconds: list[float] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("drafts", "fits", "banned", "language", "duplicates", "hashtags"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures += other.failures
        self.tokens += other.tokens
        self.seconds.extend(other.seconds)


def _hashtag_violation(body: str, platform: str, persona: PersonaProfile) -> bool:
    tags = tags_in(body)
    own = {t.lower().lstrip("#") for t in persona.hashtags}
    cap = DEFAULT_CAPS.get(platform)
    too_many = cap is not None and len(tags) > cap
    return too_many or any(t.lower().lstrip("#") not in own for t in tags)


def run_language(provider: GenerationProvider, lang: str, limit: int, count: int) -> Tally:
    persona = PERSONAS[lang]
    tally = Tally()
    earlier: list[str] = []
    for index, brief in enumerate(BRIEFS[lang][:limit]):
        this_brief: list[str] = []
        for platform in PLATFORMS:
            request = DraftRequest(
                persona=persona, brief=brief, platforms=[platform], count=count, seed=index
            )
            started = time.perf_counter()
            try:
                drafts = provider.draft(request)
            except AIProviderError:
                tally.failures += 1
                continue
            finally:
                tally.seconds.append(time.perf_counter() - started)
            for draft in drafts:
                body = draft.body
                tally.drafts += 1
                tally.tokens += sum(u.tokens_in + u.tokens_out for u in draft.usage)
                variant = fit_post(platform, body, persona.hashtags)
                tally.fits += int(variant.valid)
                tally.banned += int(contains_phrase(body, persona.banned_phrases))
                tally.language += int(detect_language(body) == lang)
                tally.duplicates += int(any(similarity(body, e) >= 0.85 for e in earlier))
                tally.hashtags += int(_hashtag_violation(body, platform, persona))
                this_brief.append(body)
        earlier.extend(this_brief)  # one brief's X and LinkedIn drafts are one post's variants
    return tally


def _p95(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _row(label: str, t: Tally) -> str:
    n = max(1, t.drafts)
    mean = statistics.fmean(t.seconds) if t.seconds else 0.0
    return (
        f"| {label} | {t.drafts} | {t.failures} | {100 * t.fits / n:.0f}% | {t.banned} | "
        f"{100 * t.language / n:.0f}% | {100 * t.duplicates / n:.0f}% | {t.hashtags} | "
        f"{mean:.2f} | {_p95(t.seconds):.2f} | {t.tokens} |"
    )


@contextmanager
def _local_llm(max_tokens: int) -> Iterator[LLMConfig]:
    from tests.peers.llm_harness import LocalLLM, find_install

    install, reason = find_install()
    if install is None:
        raise SystemExit(reason)
    with LocalLLM.start(install) as server:
        yield server.config(draft_max_tokens=max_tokens, timeout_seconds=300.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--local-llm", action="store_true")
    parser.add_argument("--base-url")
    parser.add_argument("--model")
    parser.add_argument("--api-key")
    parser.add_argument("--provider", default=None, help="template, openai or anthropic")
    parser.add_argument("--limit", type=int, default=12, help="briefs per language (max 12)")
    parser.add_argument("--count", type=int, default=1, help="drafts per request")
    parser.add_argument("--max-tokens", type=int, default=160, help="per draft (model providers)")
    args = parser.parse_args()
    if args.local_llm:
        with _local_llm(args.max_tokens) as config:
            report(get_provider(config), "local SmolLM2-135M (llama-cpp-python)", args)
        return
    if args.base_url or args.provider in ("openai", "anthropic"):
        config = LLMConfig(
            provider=args.provider or "openai",
            base_url=args.base_url,
            api_key=args.api_key,
            model=args.model,
            timeout_seconds=300.0,
            draft_max_tokens=args.max_tokens,
        )
        report(get_provider(config), f"{config.provider} {args.model}", args)
        return
    report(get_provider(LLMConfig()), "offline writer (template)", args)


def report(provider: GenerationProvider, label: str, args: argparse.Namespace) -> None:
    briefs = min(args.limit, 12)
    print(f"Draft quality: {label}; {briefs} briefs x 3 languages x {len(PLATFORMS)} platforms")
    print(
        "| language | drafts | failed requests | fit without edits | banned phrases | "
        "language match | near-duplicates | hashtag violations | mean s | p95 s | tokens |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    total = Tally()
    try:
        for lang in PERSONAS:
            tally = run_language(provider, lang, briefs, args.count)
            print(_row(lang, tally), flush=True)
            total.add(tally)
    finally:
        provider.close()
    print(_row("all", total))


if __name__ == "__main__":
    main()
