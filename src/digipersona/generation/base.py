"""The generation interface: what a caller hands in, what comes back, what a provider implements.

Providers never touch the database. The caller builds a ``PersonaProfile`` from the stored
persona, asks a provider (from ``registry.get_provider``) for drafts, suggestions or replies, and
persists what it gets. Every failure is a ``DigipersonaError`` (see ``errors.py``).
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from digipersona.exceptions import ValidationFailed

PLATFORMS: Final = ("linkedin", "x", "bluesky", "webhook")
# Targets whose limits (X 280 weighted, Bluesky 300 graphemes) call for short drafts.
SHORT_FORM_PLATFORMS: Final = frozenset({"x", "bluesky"})
SHORT_FORM_LIMIT: Final = 270

STRUCTURES: Final = (
    "hook",
    "story",
    "lesson",
    "list",
    "question",
    "cta",
    "contrarian",
    "how_to",
)
SUGGESTION_KINDS: Final = ("shorten", "punchier", "hook", "tone", "translate")
MAX_DRAFTS: Final = 5


def _clean_items(values: Sequence[str] | str | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    seen: list[str] = []
    for value in values:
        item = " ".join(str(value).split()) if "\n" not in str(value) else str(value).strip()
        if item and item not in seen:
            seen.append(item)
    return tuple(seen)


class GenerationCancelled(Exception):
    """The streaming caller cancelled the generation (the client left or pressed Cancel)."""


@dataclass(frozen=True)
class LeadHints:
    """What the lead classifier is told besides the comment: what the persona sells (offering
    and its bio), phrases that never make a lead, and labelled examples from the inbox."""

    offering: str = ""
    about: str = ""
    not_leads: Sequence[str] = ()
    examples: Sequence[tuple[str, bool]] = ()


@dataclass(frozen=True)
class PersonaProfile:
    """Everything about a persona that shapes its writing; built by the caller from the DB row."""

    name: str
    bio: str = ""
    voice: str = ""
    topics: Sequence[str] = ()
    audience: str = ""
    language: str = "en"
    hashtags: Sequence[str] = ()
    banned_phrases: Sequence[str] = ()
    example_posts: Sequence[str] = ()
    # Domains the persona never links to (checked on the model's text, see ``persona_rules``).
    blocked_domains: Sequence[str] = ()

    def __post_init__(self) -> None:
        # Normalise to tuples so a profile is hashable and cannot change under a provider.
        for name in ("topics", "hashtags", "banned_phrases", "example_posts", "blocked_domains"):
            object.__setattr__(self, name, _clean_items(getattr(self, name)))
        object.__setattr__(self, "language", (self.language or "en").strip() or "en")

    @property
    def lang(self) -> str:
        """The primary language subtag, lower case ("de-AT" -> "de")."""
        return self.language.replace("_", "-").split("-")[0].lower()


@dataclass(frozen=True)
class DraftRequest:
    """A request for ``count`` drafts of one brief, for the given target platforms.

    ``structure`` pins every draft to one post structure (wording still varies); without it the
    drafts rotate through different structures. ``topic`` pins the topic; without it drafts rotate
    through the persona's topics. ``link``/``source_title`` make the drafts comment on a feed item.
    The same ``seed`` gives the same drafts from the template provider.
    """

    persona: PersonaProfile
    brief: str = ""
    platforms: Sequence[str] = ("linkedin",)
    count: int = 1
    seed: int | None = None
    structure: str | None = None
    topic: str | None = None
    link: str | None = None
    source_title: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "platforms", _clean_items(self.platforms))
        object.__setattr__(self, "brief", (self.brief or "").strip())
        errors: list[dict[str, Any]] = []
        if isinstance(self.count, bool) or not isinstance(self.count, int):
            errors.append({"field": "count", "message": "count must be a whole number."})
        elif not 1 <= self.count <= MAX_DRAFTS:
            errors.append(
                {"field": "count", "message": f"count must be between 1 and {MAX_DRAFTS}."}
            )
        if not self.platforms:
            errors.append({"field": "platforms", "message": "Name at least one platform."})
        unknown = [p for p in self.platforms if p not in PLATFORMS]
        if unknown:
            errors.append(
                {
                    "field": "platforms",
                    "message": f"Unknown platform(s) {', '.join(unknown)}; use "
                    f"{', '.join(PLATFORMS)}.",
                }
            )
        if self.structure is not None and self.structure not in STRUCTURES:
            errors.append(
                {
                    "field": "structure",
                    "message": f"Unknown structure {self.structure!r}; use one of "
                    f"{', '.join(STRUCTURES)}.",
                }
            )
        if not (self.brief or self.topic or self.source_title or self.persona.topics):
            errors.append(
                {
                    "field": "brief",
                    "message": "Give a brief or a topic, or add topics to the persona.",
                }
            )
        if errors:
            raise ValidationFailed(
                "The draft request is invalid: " + " ".join(e["message"] for e in errors),
                errors=errors,
            )

    @property
    def threadable(self) -> bool:
        """True when every target can publish an over-long post as a thread (X, Bluesky)."""
        return self.short_form

    @property
    def short_form(self) -> bool:
        """True when every target is a short-form network (X, Bluesky)."""
        return all(p in SHORT_FORM_PLATFORMS for p in self.platforms)


@dataclass(frozen=True)
class Usage:
    """Tokens one provider call used (0 where the provider does not say)."""

    tokens_in: int = 0
    tokens_out: int = 0


@dataclass(frozen=True)
class Draft:
    """One generated draft and where it came from."""

    body: str
    structure: str
    topic: str
    provider: str
    model: str
    prompt_version: str
    # The model calls this draft took (the draft itself and any shortening).
    usage: tuple[Usage, ...] = ()


@dataclass(frozen=True)
class LLMConfig:
    """Operator configuration of the AI provider (mapped from ``DIGIPERSONA_LLM_*``).

    ``base_url`` of an OpenAI-compatible server includes its ``/v1`` (Ollama:
    ``http://127.0.0.1:11434/v1``); Anthropic's is the bare host. ``api_key`` may be empty for a
    local server that ignores it.
    """

    provider: str = "template"
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    model: str | None = None
    timeout_seconds: float = 30.0
    max_retries: int = 2
    # The most tokens one draft's answer may take (every call is bounded).
    draft_max_tokens: int = 1024
    # Set for a workspace's own base URL: every connection is checked against the outbound
    # guard (these extra allowed networks; public addresses otherwise). None: the operator's
    # installation default, trusted as configured.
    allowed_networks: tuple[Any, ...] | None = None


def check_suggestion(text: str, kind: str, target_language: str | None) -> None:
    """Validate the arguments of ``suggest`` the same way for every provider."""
    if kind not in SUGGESTION_KINDS:
        raise ValidationFailed(
            f"Unknown suggestion kind {kind!r}; use one of {', '.join(SUGGESTION_KINDS)}.",
            errors=[{"field": "kind", "message": "unknown suggestion kind"}],
        )
    if not text.strip():
        raise ValidationFailed(
            "There is no text to improve: write something first.",
            errors=[{"field": "text", "message": "empty"}],
        )
    if kind == "translate" and not (target_language or "").strip():
        raise ValidationFailed(
            "Say which language to translate into (target_language, e.g. 'de').",
            errors=[{"field": "target_language", "message": "required for translate"}],
        )


class GenerationProvider(abc.ABC):
    """A source of drafts, suggestions and replies in a persona's voice.

    Implementations are safe to call from several threads; each call is independent.
    """

    name: ClassVar[str]

    def __init__(self, model: str) -> None:
        self.model = model
        self.usage: list[Usage] = []
        # Set by a streaming caller (the editor's SSE): told each piece of text as the model
        # writes it, and an event that, once set, ends the answer under way (the upstream
        # request is closed; the tokens received so far stay in ``usage``).
        self.on_text: Callable[[str], None] | None = None
        self.cancel: threading.Event | None = None

    def cancelled(self) -> bool:
        """True once the streaming caller asked to stop."""
        return self.cancel is not None and self.cancel.is_set()

    def ping(self) -> str:
        """One tiny call that shows the provider answers (the settings page's Test button)."""
        return "The offline writer is ready: it needs no model."

    @abc.abstractmethod
    def draft(self, req: DraftRequest) -> list[Draft]:
        """Return ``req.count`` drafts for the brief, in the persona's voice and language."""

    @abc.abstractmethod
    def suggest(
        self,
        persona: PersonaProfile,
        text: str,
        kind: str,
        *,
        target_language: str | None = None,
        tone: str | None = None,
    ) -> str:
        """Return ``text`` transformed by ``kind`` (shorten, punchier, hook, tone, translate)."""

    @abc.abstractmethod
    def reply(
        self, persona: PersonaProfile, interaction_text: str, author_name: str | None = None
    ) -> str:
        """Return a short reply draft to a mention/comment, in the persona's voice."""

    def classify_lead(
        self, text: str, hints: LeadHints | None = None
    ) -> tuple[int, list[str]] | None:
        """Score how much ``text`` looks like a sales lead (0-100, reasons), or None: no opinion.

        ``hints`` say what the persona sells and give labelled examples from the inbox.
        """
        return None

    def close(self) -> None:
        """Release network resources; the provider must not be used afterwards."""
        return None
