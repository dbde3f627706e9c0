"""The shared half of the model-backed providers: prompts in, cleaned text out.

Subclasses only implement ``_complete`` (one system + user message, one text back, every failure
already mapped to ``errors.py``). Drafts are made with one call each, so that every draft gets its
own structure and so servers that ignore ``n`` (several OpenAI-compatible ones do) cannot return
fewer drafts than asked.
"""

from __future__ import annotations

import abc
import json
import re
import time
from typing import ClassVar, Final

from digipersona.generation import persona_rules, prompts, textkit
from digipersona.generation.base import (
    SHORT_FORM_LIMIT,
    Draft,
    DraftRequest,
    GenerationCancelled,
    GenerationProvider,
    LeadHints,
    LLMConfig,
    PersonaProfile,
    check_suggestion,
)
from digipersona.generation.errors import (
    MODEL_SETTING,
    AIConfigError,
    AIProviderError,
    empty,
    malformed,
)
from digipersona.generation.parsing import read_post
from digipersona.generation.planning import DraftPlan, plan_drafts
from digipersona.generation.textkit import language_name
from digipersona.kit.metrics import AI_LATENCY, AI_REQUESTS

STRUCTURE_RULES: Final = {
    "hook": ("Hook", "Open with a one-line hook that makes the reader stop, then make the point."),
    "story": ("Story", "Tell it as a short first-person story: situation, turn, takeaway."),
    "lesson": ("Lesson", "Lead with the lesson learned, then why it matters to the audience."),
    "list": ("List", "A one-line intro, then 3 to 5 short items, one per line."),
    "question": (
        "Question",
        "Give brief context, then end with one genuine question to the audience.",
    ),
    "cta": ("Call to action", "Make the point, then end with one clear call to action."),
    "contrarian": (
        "Contrarian take",
        "Challenge a common belief about the topic, explain why, stay respectful.",
    ),
    "how_to": ("How-to", "A one-line promise, then numbered, practical steps."),
}

SUGGEST_INSTRUCTIONS: Final = {
    "shorten": "Shorten this post to about 70% of its length: cut filler and hedges, keep the "
    "point, the voice and the language.",
    "punchier": "Make this post punchier: short sentences, strong verbs, no hedging. Keep the "
    "meaning, the voice and the language.",
    "hook": "Add a strong opening hook line drawn from the post's own content, then keep the "
    "post. Use the post's language.",
    "tone": "Rewrite this post in this tone: {tone}. Keep the content and the language.",
    "translate": "Translate this post into {language}. Keep the voice, line breaks, links, "
    "hashtags and emoji.",
}

_DRAFT_TOKENS = 1024
_PING_TOKENS = 16
# LinkedIn's 3000 characters, with room for the hashtags the variant adds.
LONG_FORM_LIMIT: Final = 2800
_REPLY_TOKENS = 300
_CLASSIFY_TOKENS = 200


def _or_none(value: str) -> str:
    return value.strip() or "(none given)"


def persona_values(persona: PersonaProfile) -> dict[str, str]:
    """The persona's placeholders for every prompt template."""
    examples = "\n---\n".join(persona.example_posts) or "(none given)"
    return {
        "name": persona.name,
        "bio": _or_none(persona.bio),
        "voice": _or_none(persona.voice),
        "audience": _or_none(persona.audience),
        "topics": _or_none(", ".join(persona.topics)),
        "language": persona.language,
        "language_name": language_name(persona.language),
        "banned": _or_none("; ".join(f'"{p}"' for p in persona.banned_phrases)),
        "hashtags": _or_none(" ".join(persona.hashtags)),
        "examples": examples,
    }


def _length_rule(req: DraftRequest) -> str:
    if req.short_form:
        return f"At most {SHORT_FORM_LIMIT - 20} characters in total, hashtags and link included."
    return "Between 400 and 1300 characters; short paragraphs separated by blank lines."


def _source_line(req: DraftRequest) -> str:
    if not (req.source_title or req.link):
        return ""
    title = f"“{req.source_title}”" if req.source_title else "this article"
    link = f" ({req.link})" if req.link else ""
    source = f"Comment on {title}{link}."
    if req.link:
        source += f" End the post with the link {req.link}."
    return source


def require_model(config: LLMConfig, example: str) -> str:
    """The configured model name, or a 400 naming the setting."""
    if not (config.model or "").strip():
        raise AIConfigError(
            f"No AI model is configured for the {config.provider} provider: set {MODEL_SETTING} "
            f"(for example {example!r})."
        )
    return str(config.model).strip()


class ChatProvider(GenerationProvider):
    """Drafts, suggestions, replies and lead scores from a chat model."""

    name: ClassVar[str]
    config: LLMConfig

    @property
    def _draft_tokens(self) -> int:
        return max(16, min(_DRAFT_TOKENS, self.config.draft_max_tokens))

    @abc.abstractmethod
    def _complete(
        self, system: str, user: str, *, max_tokens: int, seed: int | None, json_post: bool = False
    ) -> str:
        """Send one system + user message and return the model's text (never empty).

        ``json_post`` asks for ``{"post": str}`` through the provider's structured output where it
        has one; the answer is parsed defensively either way (``parsing.read_post``).
        """

    def _measured_complete(
        self, system: str, user: str, *, max_tokens: int, seed: int | None, json_post: bool = False
    ) -> str:
        """``_complete``, counted and timed per provider for the metrics."""
        started = time.monotonic()
        outcome = "ok"
        try:
            return self._complete(
                system, user, max_tokens=max_tokens, seed=seed, json_post=json_post
            )
        except Exception as exc:
            outcome = type(exc).__name__
            raise
        finally:
            AI_LATENCY.labels(self.name).observe(time.monotonic() - started)
            AI_REQUESTS.labels(self.name, outcome).inc()

    def _text(self, system: str, user: str, *, max_tokens: int, seed: int | None = None) -> str:
        text = textkit.clean_model_text(
            self._measured_complete(system, user, max_tokens=max_tokens, seed=seed)
        )
        if not text:
            raise empty(self.name)
        return text

    def ping(self) -> str:
        """One tiny call: the model's own short answer."""
        return self._text(
            "You answer in at most five words.", "Say hello.", max_tokens=_PING_TOKENS
        )[:200]

    def draft(self, req: DraftRequest) -> list[Draft]:
        """One model call per draft, each with its planned structure and topic.

        A draft whose answer holds no usable post, or breaks the persona's rules beyond repair
        (``persona_rules``: wrong language, nothing left after removing banned phrases and
        blocked links), is dropped; only when none is usable does the request fail (a clear 502
        with the reasons, never a 500).
        """
        drafts: list[Draft] = []
        failure: Exception | None = None
        for plan in plan_drafts(req):
            if self.cancelled():
                raise GenerationCancelled("cancelled between drafts")
            try:
                drafts.append(self._one_draft(req, plan))
            except AIProviderError as exc:
                if exc.reason not in ("malformed", "empty", "persona_rules"):
                    raise
                failure = exc
        if not drafts:
            raise failure or empty(self.name)
        return drafts

    def _one_draft(self, req: DraftRequest, plan: DraftPlan) -> Draft:
        label, rule = STRUCTURE_RULES[plan.structure]
        prompt = prompts.render(
            "draft",
            **persona_values(req.persona),
            platforms=", ".join(req.platforms),
            structure_label=label,
            structure_rule=rule,
            topic=plan.topic or "(follow the brief)",
            brief=req.brief or "(no brief: write about the topic)",
            source=_source_line(req),
            length_rule=_length_rule(req),
        )
        seed = plan.seed if req.seed is not None else None
        start = len(self.usage)
        raw = self._measured_complete(
            prompt.system, prompt.user, max_tokens=self._draft_tokens, seed=seed, json_post=True
        )
        text = read_post(raw)
        if not text.strip():
            raise malformed(self.name, "no post in the answer")
        text = self._fit(req, self._enforce(req, text))
        return Draft(
            body=text,
            structure=plan.structure,
            topic=plan.topic,
            provider=self.name,
            model=self.model,
            prompt_version=prompt.version,
            usage=tuple(self.usage[start:]),
        )

    def _enforce(self, req: DraftRequest, text: str) -> str:
        """The persona's rules on the model's text (``persona_rules``): repaired or rejected."""
        return persona_rules.enforce(
            text,
            language=req.persona.language,
            banned_phrases=req.persona.banned_phrases,
            blocked_domains=req.persona.blocked_domains,
            hashtags=req.persona.hashtags,
            platforms=req.platforms,
            provider=self.name,
        ).text

    def _fit(self, req: DraftRequest, text: str) -> str:
        """Bring an over-long draft under the limit: ask the model once to shorten it; then a
        short-form draft that is still too long stays whole (X and Bluesky publish it as a
        thread), and a long-form one is cut at its last whole sentence that fits."""
        limit = SHORT_FORM_LIMIT if req.short_form else LONG_FORM_LIMIT
        if textkit.weighted_length(text) <= limit:
            return text
        prompt = prompts.render(
            "shorten",
            name=req.persona.name,
            language_name=language_name(req.persona.language),
            length=str(textkit.weighted_length(text)),
            limit=str(limit),
            target=str(limit - 20),
            text=text,
        )
        try:
            raw = self._measured_complete(
                prompt.system, prompt.user, max_tokens=self._draft_tokens, seed=None, json_post=True
            )
            shorter = self._enforce(req, read_post(raw))
        except AIProviderError:
            shorter = ""
        if shorter and textkit.weighted_length(shorter) < textkit.weighted_length(text):
            text = shorter
        if textkit.weighted_length(text) <= limit or req.threadable:
            return text
        return textkit.fit(text, limit)

    def suggest(
        self,
        persona: PersonaProfile,
        text: str,
        kind: str,
        *,
        target_language: str | None = None,
        tone: str | None = None,
    ) -> str:
        """Ask the model to apply one edit to ``text``."""
        check_suggestion(text, kind, target_language)
        instruction = SUGGEST_INSTRUCTIONS[kind].format(
            tone=(tone or persona.voice or "the persona's usual tone").strip(),
            language=language_name(target_language or ""),
        )
        prompt = prompts.render(
            "suggest", **persona_values(persona), instruction=instruction, text=text.strip()
        )
        result = self._text(prompt.system, prompt.user, max_tokens=_DRAFT_TOKENS)
        result = textkit.scrub_banned(result, persona.banned_phrases)
        if not result:
            raise empty(self.name)
        return result

    def reply(
        self, persona: PersonaProfile, interaction_text: str, author_name: str | None = None
    ) -> str:
        """Ask the model for a short reply in the persona's voice."""
        prompt = prompts.render(
            "reply",
            **persona_values(persona),
            author_line=(author_name or "Someone").strip(),
            interaction=interaction_text.strip(),
        )
        result = self._text(prompt.system, prompt.user, max_tokens=_REPLY_TOKENS)
        if not result.strip():
            raise empty(self.name)
        # A reply follows the comment's language (the prompt says so): not checked against
        # the persona's.
        checked = persona_rules.enforce(
            result,
            language=persona.language,
            banned_phrases=persona.banned_phrases,
            blocked_domains=persona.blocked_domains,
            hashtags=persona.hashtags,
            platforms=("x",),
            provider=self.name,
            check_language=False,
        )
        return textkit.fit(checked.text, SHORT_FORM_LIMIT)

    def classify_lead(
        self, text: str, hints: LeadHints | None = None
    ) -> tuple[int, list[str]] | None:
        """Score a comment as a sales lead; None when the model's answer cannot be read.

        The prompt says what the persona offers and shows the workspace's labelled examples.
        """
        hints = hints or LeadHints()
        offering = " ".join(
            part for part in (hints.offering, textkit.tidy(hints.about)[:300]) if part
        )
        examples = "\n".join(
            f"- {'LEAD' if label else 'NOT A LEAD'}: {textkit.tidy(sample)[:300]}"
            for sample, label in hints.examples
        )
        prompt = prompts.render(
            "classify",
            text=text.strip(),
            offering=offering or "not said",
            not_leads="; ".join(hints.not_leads) or "nothing listed",
            examples=examples or "(none yet)",
        )
        raw = self._text(prompt.system, prompt.user, max_tokens=_CLASSIFY_TOKENS)
        return parse_lead_score(raw)


def parse_lead_score(raw: str) -> tuple[int, list[str]] | None:
    """Read ``{"score": int, "reasons": [...]}`` out of a model answer, tolerating wrapping text."""
    match = re.search(r"\{.*\}", raw, re.DOTALL)
    if not match:
        return None
    try:
        data = json.loads(match.group(0))
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    score = data.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float):
        return None
    reasons = data.get("reasons") or []
    if not isinstance(reasons, list):
        reasons = [reasons]
    clean = [textkit.tidy(str(r))[:200] for r in reasons if str(r).strip()][:3]
    return max(0, min(100, round(score))), clean
