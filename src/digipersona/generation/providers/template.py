"""The offline, deterministic template provider (the default).

It composes drafts from a library of post structures (hook, story, lesson, list, question, call to
action, contrarian take, how-to) filled with the brief, the persona's topics, audience, hashtags and
the habits of its example posts (sentence length, emoji, line breaks, bullets). Its scaffolding
follows the persona's language (en, de, fr, es; anything else falls back to en) and tone words in
the voice ("warm", "direct", "playful", "formal" and synonyms). Banned phrases never appear: the
scaffolding avoids them and a final scrub removes any sentence of the brief that holds one.

It cannot translate: that needs a model, so ``suggest(kind="translate")`` says to configure one.
"""

from __future__ import annotations

import random
import re
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from digipersona.exceptions import ValidationFailed
from digipersona.generation import persona_rules, textkit
from digipersona.generation.base import (
    SHORT_FORM_LIMIT,
    Draft,
    DraftRequest,
    GenerationProvider,
    LLMConfig,
    PersonaProfile,
    check_suggestion,
)
from digipersona.generation.errors import PROVIDER_SETTING, AIConfigError
from digipersona.generation.planning import DraftPlan, plan_drafts
from digipersona.generation.providers import template_phrases as bank

MODEL = "template-v1"
PROMPT_VERSION = "template_v1"
_FIELD = re.compile(r"\{(\w+)\}")
_BULLET_MARKERS = ("→", "•", "-", "–", "✅", "*", "👉")
_HASHTAGS_LONG = 4
_HASHTAGS_SHORT = 2
_SHORT_SENTENCE_WORDS = 11
_PUNCHY_SPLIT_WORDS = 14
_ADDITIVE = frozenset({"and", "und", "et", "y"})


@dataclass(frozen=True)
class Style:
    """How a persona writes, read from its voice and example posts."""

    lang: str
    tone: str
    emoji: str | None
    short_sentences: bool
    blank_lines: bool
    bullet: str
    hashtags: tuple[str, ...]


def detect_tone(text: str) -> str | None:
    """Return the tone named earliest in ``text`` (warm, direct, playful, formal), or None."""
    lowered = text.casefold()
    best: tuple[int, str] | None = None
    for tone, words in bank.TONE_WORDS.items():
        for word in words:
            match = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", lowered)
            if match and (best is None or match.start() < best[0]):
                best = (match.start(), tone)
    return best[1] if best else None


def derive_style(persona: PersonaProfile) -> Style:
    """Read the persona's tone and writing habits."""
    lang = persona.lang if persona.lang in bank.BANKS else "en"
    tone = detect_tone(persona.voice) or "neutral"
    examples = list(persona.example_posts)
    emoji: str | None = None
    if examples:
        with_emoji = [e for e in examples if textkit.emojis_in(e)]
        if len(with_emoji) * 2 >= len(examples):
            counts = Counter(em for e in with_emoji for em in textkit.emojis_in(e))
            emoji = counts.most_common(1)[0][0]
    elif tone == "playful":
        emoji = bank.DEFAULT_EMOJI
    if tone == "formal":
        emoji = None
    sentences = [s for e in examples for p in e.split("\n") for s in textkit.split_sentences(p)]
    if sentences:
        average = sum(textkit.word_count(s) for s in sentences) / len(sentences)
        short_sentences = average <= _SHORT_SENTENCE_WORDS
    else:
        short_sentences = tone == "direct"
    blank_lines = any("\n" in e for e in examples) if examples else True
    bullets = Counter(
        line.strip()[0]
        for e in examples
        for line in e.split("\n")
        if line.strip()[:1] in _BULLET_MARKERS and line.strip()[1:2] == " "
    )
    bullet = bullets.most_common(1)[0][0] if bullets else "•"
    tags = [textkit.normalise_hashtag(t) for t in persona.hashtags]
    if not tags:
        tags = [t for e in examples for t in textkit.hashtags_in(e)]
    unique: list[str] = []
    for tag in tags:
        if tag and tag.lower() not in (u.lower() for u in unique):
            unique.append(tag)
    hashtags = tuple(t for t in unique if not textkit.contains_phrase(t, persona.banned_phrases))
    return Style(lang, tone, emoji, short_sentences, blank_lines, bullet, hashtags)


class Phrases:
    """Picks scaffolding for one language and tone, skipping banned or unfillable variants."""

    def __init__(self, style: Style, banned: Sequence[str], rng: random.Random) -> None:
        self.style = style
        self.banned = banned
        self.rng = rng

    def variants(self, key: str, tone: str | None = None) -> tuple[str, ...]:
        """All variants of ``key`` for the tone, falling back to the plain key, then to English."""
        tone = tone or self.style.tone
        for table in (bank.BANKS[self.style.lang], bank.EN):
            found = table.get(f"{key}.{tone}") or table.get(key)
            if found:
                return found
        return ()

    def pick(self, key: str, tone: str | None = None, **values: str) -> str | None:
        """A random usable variant of ``key`` with its fields filled, or None if none fits."""
        filled_values = {k: v for k, v in values.items() if v}
        if "topic" in filled_values:
            filled_values["Topic"] = textkit.capitalise(filled_values["topic"])
        tried = [self.variants(key, tone)]
        if tone or self.style.tone != "neutral":
            tried.append(self.variants(key, "neutral"))
        for variants in tried:
            usable = [
                v.format(**filled_values)
                for v in variants
                if set(_FIELD.findall(v)) <= set(filled_values)
            ]
            usable = [u for u in usable if not textkit.contains_phrase(u, self.banned)]
            if usable:
                return self.tone_up(self.rng.choice(usable), tone or self.style.tone)
        return None

    def tone_up(self, text: str, tone: str) -> str:
        """Apply the tone's punctuation habits to one piece of scaffolding."""
        if tone == "formal" and self.style.lang == "en":
            text = expand_contractions(text)
        return text


def expand_contractions(text: str) -> str:
    """Turn "it's" into "it is" (English), keeping the first letter's case."""
    for long, short in bank.CONTRACTIONS:
        text = _swap(text, short, long)
    return text


def contract(text: str) -> str:
    """Turn "it is" into "it's" (English), keeping the first letter's case."""
    for long, short in bank.CONTRACTIONS:
        text = _swap(text, long, short)
    return text


def _swap(text: str, old: str, new: str) -> str:
    def replace(match: re.Match[str]) -> str:
        return _same_case(match.group(0), new)

    return re.sub(rf"\b{re.escape(old)}\b", replace, text, flags=re.IGNORECASE)


def _same_case(original: str, replacement: str) -> str:
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def apply_rules(text: str, rules: Sequence[tuple[str, str]]) -> str:
    """Apply (regex, replacement) rules case-insensitively, then re-capitalise sentences."""
    for pattern, replacement in rules:
        text = re.sub(pattern, replacement, text, flags=re.IGNORECASE)
    return _recapitalise(textkit.tidy(text))


def _recapitalise(text: str) -> str:
    lines = []
    for line in text.split("\n"):
        sentences = textkit.split_sentences(line) if line.strip() else []
        bullet = re.match(r"^\s*([-•→*–✅👉]|\d+[.)])\s+", line)
        fixed = " ".join(textkit.capitalise(s) for s in sentences)
        if bullet and not fixed.startswith(bullet.group(1)):
            fixed = bullet.group(0) + fixed
        lines.append(fixed if sentences else line)
    return "\n".join(lines)


def split_long(sentence: str, lang: str, max_words: int) -> list[str]:
    """Split a sentence at ", and"/", but" (per language) while it is longer than ``max_words``."""
    if textkit.word_count(sentence) <= max_words:
        return [sentence]
    conjunctions = bank.SPLIT_CONJUNCTIONS.get(lang, ()) + (
        bank.SPLIT_CONJUNCTIONS["en"] if lang != "en" else ()
    )
    pattern = re.compile(
        r"(?:,|;| —| –)\s+(" + "|".join(re.escape(c) for c in conjunctions) + r")\s+",
        re.IGNORECASE,
    )
    match = pattern.search(sentence)
    if not match:
        match = re.search(r";\s+", sentence)
        if not match:
            return [sentence]
        head, tail = sentence[: match.start()], sentence[match.end() :]
    else:
        head = sentence[: match.start()]
        word = match.group(1)
        # "and" adds nothing once the sentences are apart; "but"/"so" carry the logic.
        additive = word.casefold() in _ADDITIVE
        tail = sentence[match.end() :] if additive else word + " " + sentence[match.end() :]
    head = head.rstrip(",;") + "."
    if textkit.word_count(head) < 3 or textkit.word_count(tail) < 3:
        return [sentence]
    return [head, *split_long(textkit.capitalise(tail), lang, max_words)]


@dataclass
class Content:
    """The brief, cut into what the structures place."""

    core: str
    rest: list[str]
    points: list[str]


def _points_from(sentences: list[str]) -> list[str]:
    if len(sentences) >= 2:
        return [s.rstrip() for s in sentences]
    if not sentences:
        return []
    # Only split where the brief itself enumerates; a plain comma often opens a subordinate clause.
    clauses = [c.strip(" .") for c in re.split(r";|,\s+(?:and|und|et|y)\s+", sentences[0])]
    if len(clauses) >= 2 and all(textkit.word_count(c) >= 3 for c in clauses):
        return [textkit.capitalise(c) + "." for c in clauses]
    return [sentences[0]]


def _words(text: str) -> list[str]:
    return text.split()


_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        _words(
            "a about after again all also an and any are as at be because been before being but by "
            "can could did do does doing done for from had has have how i if in instead into is it "
            "its just more most my no nobody not now of on one or our out over own should so some "
            "still stop stopped than that the their them then there these they this those through "
            "to too under up very was we were what when where which while who why will with would "
            "you your write post posts brief draft about tell share explain announce everyone "
            "everybody someone something anything nothing people really thing things"
        )
    ),
    "de": frozenset(
        _words(
            "aber alle als also am an auch auf aus bei bin bis das dass dem den der des die doch "
            "du "
            "ein eine einem einen einer es für hat haben ich ihr im in ist ja kein keine mit nach "
            "nicht noch nur oder sich sie sind so über um und uns unser unsere vom von vor warum "
            "was weil wenn wer wie wir wird zu zum zur schreib schreibe beitrag post"
        )
    ),
    "fr": frozenset(
        _words(
            "a au aux avec ce ces dans de des du elle en est et eux il ils je la le les "
            "leur lui ma "
            "mais me même mes moi mon ne nos notre nous on ou par pas pour pourquoi qu que qui sa "
            "se ses son sur ta te tes toi ton tu un une vos votre vous comment écrire post"
        )
    ),
    "es": frozenset(
        _words(
            "a al algo como con de del el ella ellos en era es esta este esto hay la las le les lo "
            "los más mi mis muy no nos nuestro nuestra o para pero por porque qué que se sin sobre "
            "su sus también te tu un una uno y ya escribe publicación post"
        )
    ),
}
_AND = {"en": "and", "de": "und", "fr": "et", "es": "y"}
_TERM_POINTS: dict[str, tuple[str, ...]] = {
    "en": ("Start with {term}.", "Be honest about {term}.", "Look hard at {term}."),
    "de": ("Fangt bei {term} an.", "Seid ehrlich bei {term}.", "Schaut genau auf {term}."),
    "fr": ("Commencez par {term}.", "Soyez honnêtes sur {term}.", "Regardez de près {term}."),
    "es": ("Empezad por {term}.", "Sed honestos con {term}.", "Mirad de cerca {term}."),
}
_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)


def key_terms(brief: str, lang: str, banned: Sequence[str] = ()) -> list[str]:
    """The brief's content words (at most 3, the longest, in the brief's order): what a draft
    is about, without the instruction around them."""
    stop = _STOPWORDS.get(lang, _STOPWORDS["en"]) | _STOPWORDS["en"]
    found: list[str] = []
    for word in _WORD.findall(brief):
        low = word.lower().strip("'’-")
        if len(low) < 4 or low in stop or textkit.contains_phrase(low, banned):
            continue
        if lang == "en" and low.endswith(("ed", "ly")):
            continue  # past-tense verbs and adverbs make poor subjects
        if low not in (f.lower() for f in found):
            found.append(word.strip("'’-"))
    longest = sorted(found, key=len, reverse=True)[:3]
    return [w for w in found if w in longest]


def _subject(terms: Sequence[str], topic: str, lang: str) -> str:
    if not terms:
        return topic
    head = terms[:2]
    if len(head) == 2:
        return f"{head[0]} {_AND.get(lang, 'and')} {head[1]}"
    return head[0]


def _example_sentences(
    persona: PersonaProfile, terms: Sequence[str], topic: str, banned: Sequence[str]
) -> list[str]:
    """Sentences of the persona's example posts, those sharing a word with the brief's terms
    or the topic first (their own voice, never the brief's)."""
    wanted = {t.lower() for t in terms} | {w.lower() for w in _WORD.findall(topic)}
    scored: list[tuple[int, int, str]] = []
    for post in persona.example_posts:
        clean = textkit.strip_emoji(_strip_tags_and_links(post))
        for sentence in textkit.split_sentences(clean.replace("\n", " ")):
            if textkit.word_count(sentence) < 3 or textkit.contains_phrase(sentence, banned):
                continue
            words = {w.lower() for w in _WORD.findall(sentence)}
            scored.append((-len(words & wanted), len(scored), sentence))
    scored.sort()
    return [s for _, _, s in scored[:3]]


def _strip_tags_and_links(text: str) -> str:
    return re.sub(r"(?<![\w#])#\w+|https?://\S+", "", text)


def _term_points(terms: Sequence[str], lang: str, rng: random.Random) -> list[str]:
    lines = list(_TERM_POINTS.get(lang, _TERM_POINTS["en"]))
    rng.shuffle(lines)
    return [line.format(term=term) for line, term in zip(lines, terms, strict=False)]


class TemplateProvider(GenerationProvider):
    """Offline drafts from post structures; deterministic for a given seed."""

    name: ClassVar[str] = "template"

    def __init__(self, config: LLMConfig | None = None) -> None:
        super().__init__(model=MODEL)

    # -- drafts ----------------------------------------------------------------------------
    def draft(self, req: DraftRequest) -> list[Draft]:
        """Compose ``req.count`` drafts, each with its own structure unless one was pinned."""
        style = derive_style(req.persona)
        drafts: list[Draft] = []
        bodies: set[str] = set()
        for plan in plan_drafts(req):
            body = ""
            # A pinned structure can land on the same wording twice; redraw a few times.
            for attempt in range(6):
                rng = random.Random(plan.seed + attempt)
                body = self._compose(req, plan, style, rng)
                if body not in bodies:
                    break
            bodies.add(body)
            # The persona's own examples may carry links or tags its rules exclude.
            body = persona_rules.fix_hashtags(
                persona_rules.scrub_blocked(body, req.persona.blocked_domains),
                req.persona.hashtags,
                req.platforms,
            )
            drafts.append(
                Draft(
                    body=body,
                    structure=plan.structure,
                    topic=plan.topic,
                    provider=self.name,
                    model=self.model,
                    prompt_version=PROMPT_VERSION,
                )
            )
        if self.on_text is not None:
            # Written at once, streamed at once: each draft is one piece of progress.
            for made in drafts:
                self.on_text(made.body)
        return drafts

    def _content(self, req: DraftRequest, plan: DraftPlan, style: Style, ph: Phrases) -> Content:
        """What the structures place, built from the brief's key terms, the topic and the
        persona's own example posts. A brief is an instruction, not text: none of its sentences
        is copied into the draft."""
        banned = req.persona.banned_phrases
        terms = key_terms(req.brief, style.lang, banned)
        subject = _subject(terms, plan.topic, style.lang) or req.source_title or ""
        core = None
        if req.source_title and not terms:
            core = ph.pick("fallback.source")
        if core is None:
            core = ph.pick("fallback.core", topic=subject)
        core = core or textkit.capitalise(subject) + "."
        examples = _example_sentences(req.persona, terms, plan.topic, banned)
        points = [*examples[:2], *_term_points(terms, style.lang, ph.rng)]
        if style.short_sentences:
            points = [part for s in points for part in split_long(s, style.lang, 12)]
        points = [textkit.capitalise(p) for p in points if p][:4]
        return Content(core=core, rest=examples[:1], points=points or [core])

    def _compose(self, req: DraftRequest, plan: DraftPlan, style: Style, rng: random.Random) -> str:
        persona = req.persona
        ph = Phrases(style, persona.banned_phrases, rng)
        content = self._content(req, plan, style, ph)
        values = {"topic": plan.topic, "audience": persona.audience}
        builder = _BUILDERS[plan.structure]
        opener, body, closer = builder(ph, content, values, rng)
        if opener:
            opener = self._decorate(opener, style)
        if style.emoji and not (opener and style.emoji in opener) and closer:
            # An opener ending in ":" leads into the body; the emoji habit moves to the closer.
            closer = f"{closer} {style.emoji}"
        source = ph.pick("source.intro", title=req.source_title or "") if req.source_title else None
        link_line = None
        if req.link:
            intro = ph.pick("link.intro") or ""
            link_line = f"{intro} {req.link}".strip()
        if req.short_form:
            text = self._pack_short(opener, source, body, closer, link_line, style)
        else:
            tags = " ".join(style.hashtags[:_HASHTAGS_LONG]) or None
            parts = [opener, source, *body, closer, link_line, tags]
            separator = "\n\n" if style.blank_lines else "\n"
            text = separator.join(p for p in parts if p)
        text = textkit.scrub_banned(text, persona.banned_phrases)
        return textkit.tidy(text)

    @staticmethod
    def _decorate(opener: str, style: Style) -> str:
        if style.tone == "playful" and opener.endswith("."):
            opener = opener[:-1] + "!"
        if style.tone == "formal":
            opener = opener.replace("!", ".")
        if style.emoji and not textkit.emojis_in(opener) and opener[-1:] in ".!":
            opener = f"{opener} {style.emoji}"
        return opener

    @staticmethod
    def _pack_short(
        opener: str | None,
        source: str | None,
        body: list[str],
        closer: str | None,
        link_line: str | None,
        style: Style,
    ) -> str:
        """Fit a short-form post under the X/Bluesky budget, dropping the least needed parts."""
        budget = SHORT_FORM_LIMIT
        tags = " ".join(style.hashtags[:_HASHTAGS_SHORT]) or None
        # (position, priority, text): lower priority number is kept first.
        first_body = body[0] if body else ""
        lines = first_body.split("\n")
        candidates: list[tuple[int, int, str]] = []
        if len(lines) > 1:
            # A list: keep its intro line and as many items as fit.
            candidates.append((3, 0, lines[0]))
            for i, item in enumerate(lines[1:]):
                candidates.append((4 + i, 1 + i, item))
        elif first_body:
            candidates.append((3, 0, first_body))
        if link_line:
            candidates.append((90, 0, link_line))
        if opener:
            candidates.append((1, 2, opener))
        if source:
            candidates.append((2, 1, source))
        if closer:
            candidates.append((80, 5, closer))
        if tags:
            candidates.append((95, 6, tags))
        for extra_index, extra in enumerate(body[1:]):
            candidates.append((10 + extra_index, 7 + extra_index, extra))

        chosen: list[tuple[int, int, str]] = []

        def render(items: list[tuple[int, int, str]]) -> str:
            ordered = sorted(items)
            out = ""
            previous = -1
            for position, _, text in ordered:
                joiner = "\n" if 3 <= previous < 10 and 4 <= position < 10 else "\n\n"
                out = f"{out}{joiner}{text}" if out else text
                previous = position
            return out

        for candidate in sorted(candidates, key=lambda c: (c[1], c[0])):
            attempt = [*chosen, candidate]
            if textkit.weighted_length(render(attempt)) <= budget:
                chosen = attempt
            elif candidate[1] == 0 and candidate[0] != 90:
                room = budget - textkit.weighted_length(render(chosen)) - 2
                if room > 20:
                    chosen.append((candidate[0], candidate[1], textkit.fit(candidate[2], room)))
        return render(chosen)

    # -- suggestions -----------------------------------------------------------------------
    def suggest(
        self,
        persona: PersonaProfile,
        text: str,
        kind: str,
        *,
        target_language: str | None = None,
        tone: str | None = None,
    ) -> str:
        """Rewrite ``text`` offline: shorten, punchier, hook or tone (translate needs a model)."""
        check_suggestion(text, kind, target_language)
        if kind == "translate":
            raise AIConfigError(
                "Translation needs an AI model, and the offline template provider cannot "
                f"translate. Set {PROVIDER_SETTING} to openai or anthropic (with its API key and "
                "model) to translate drafts."
            )
        style = derive_style(persona)
        rng = random.Random(zlib.crc32(f"{kind}:{tone}:{text}".encode()))
        ph = Phrases(style, persona.banned_phrases, rng)
        transforms: dict[str, Callable[[], str]] = {
            "shorten": lambda: shorten(text, style.lang),
            "punchier": lambda: punchier(text, style.lang),
            "hook": lambda: add_hook(text, ph),
            "tone": lambda: retone(text, ph, tone),
        }
        result = transforms[kind]()
        return textkit.tidy(textkit.scrub_banned(result, persona.banned_phrases))

    # -- replies ---------------------------------------------------------------------------
    def reply(
        self, persona: PersonaProfile, interaction_text: str, author_name: str | None = None
    ) -> str:
        """A short, on-voice reply: thanks, a line that fits what they wrote, an invitation."""
        style = derive_style(persona)
        rng = random.Random(zlib.crc32(f"{author_name}:{interaction_text}".encode()))
        ph = Phrases(style, persona.banned_phrases, rng)
        lowered = interaction_text.casefold()
        author = (author_name or "").strip().lstrip("@").split(" ")[0]
        if textkit.contains_phrase(lowered, bank.DISAGREE_WORDS):
            kind = "disagree"
        elif "?" in interaction_text:
            kind = "question"
        elif textkit.contains_phrase(lowered, bank.PRAISE_WORDS):
            kind = "praise"
        else:
            kind = "general"
        thanks = ph.pick("reply.thanks", author=author)
        middle = ph.pick(f"reply.{kind}")
        close_key = "reply.close.question" if kind == "question" else "reply.close"
        closer = ph.pick(close_key)
        if kind == "praise":
            closer = None
        parts = [p for p in (thanks, middle, closer) if p]
        text = " ".join(parts)
        if style.emoji and style.tone != "formal":
            text = f"{text} {style.emoji}"
        return textkit.tidy(
            textkit.scrub_banned(textkit.fit(text, SHORT_FORM_LIMIT), persona.banned_phrases)
        )


# -- structures ----------------------------------------------------------------------------
Built = tuple[str | None, list[str], str | None]


def _closer(ph: Phrases) -> str | None:
    return ph.pick("close")


def _hook(ph: Phrases, c: Content, v: dict[str, str], rng: random.Random) -> Built:
    return ph.pick("hook.open", **v), [c.core, *([" ".join(c.rest)] if c.rest else [])], _closer(ph)


def _story(ph: Phrases, c: Content, v: dict[str, str], rng: random.Random) -> Built:
    body = [c.core]
    if c.rest:
        turn = ph.pick("story.turn") or ""
        body.append(f"{turn}\n{' '.join(c.rest)}".strip())
    return ph.pick("story.open", **v), body, _closer(ph)


def _lesson(ph: Phrases, c: Content, v: dict[str, str], rng: random.Random) -> Built:
    body = [c.core]
    if c.rest:
        why = ph.pick("lesson.why", audience=v["audience"]) or ""
        body.append(f"{why}\n{' '.join(c.rest)}".strip())
    return ph.pick("lesson.open", **v), body, _closer(ph)


def _items(ph: Phrases, c: Content, rng: random.Random) -> list[str]:
    items = list(c.points)
    if len(items) < 3:
        extras = [e for e in ph.variants("list.extra") if not textkit.contains_phrase(e, ph.banned)]
        rng.shuffle(extras)
        items.extend(extras[: 3 - len(items)])
    return items[:5]


def _list(ph: Phrases, c: Content, v: dict[str, str], rng: random.Random) -> Built:
    items = _items(ph, c, rng)
    intro = ph.pick("list.open", n=str(len(items)), **v)
    bullet = ph.style.bullet
    block = "\n".join([intro or "", *(f"{bullet} {item}" for item in items)]).strip()
    return None, [block], _closer(ph)


def _how_to(ph: Phrases, c: Content, v: dict[str, str], rng: random.Random) -> Built:
    items = _items(ph, c, rng)
    intro = ph.pick("how_to.open", n=str(len(items)), **v)
    block = "\n".join([intro or "", *(f"{i}. {item}" for i, item in enumerate(items, 1))]).strip()
    return None, [block], _closer(ph)


def _question(ph: Phrases, c: Content, v: dict[str, str], rng: random.Random) -> Built:
    context = ph.pick("question.context") or ""
    body = [f"{context} {c.core} {' '.join(c.rest)}".strip()]
    return ph.pick("question.open", audience=v["audience"]), body, ph.pick("question.ask", **v)


def _cta(ph: Phrases, c: Content, v: dict[str, str], rng: random.Random) -> Built:
    body = [c.core, *([" ".join(c.rest)] if c.rest else [])]
    return ph.pick("cta.open", **v), body, ph.pick("cta.close")


def _contrarian(ph: Phrases, c: Content, v: dict[str, str], rng: random.Random) -> Built:
    turn = ph.pick("contrarian.turn")
    body = [c.core, *([t for t in [turn] if t]), *([" ".join(c.rest)] if c.rest else [])]
    return ph.pick("contrarian.open", **v), body, _closer(ph)


_BUILDERS: dict[str, Callable[[Phrases, Content, dict[str, str], random.Random], Built]] = {
    "hook": _hook,
    "story": _story,
    "lesson": _lesson,
    "list": _list,
    "question": _question,
    "cta": _cta,
    "contrarian": _contrarian,
    "how_to": _how_to,
}


# -- suggestion transforms -------------------------------------------------------------------
def _split_tail(text: str) -> tuple[str, list[str]]:
    """Separate trailing hashtag-only and link-only lines, which edits keep as they are."""
    lines = text.rstrip().split("\n")
    tail: list[str] = []
    while lines:
        last = lines[-1].strip()
        words = last.split()
        is_tags = bool(words) and all(w.startswith("#") for w in words)
        is_link = bool(textkit.urls_in(last)) and len(words) <= 4
        if not (is_tags or is_link):
            break
        tail.insert(0, lines.pop())
    return "\n".join(lines).strip(), tail


def _join_tail(body: str, tail: list[str]) -> str:
    return "\n\n".join([body, "\n".join(tail)]) if tail else body


def _rules(table: dict[str, tuple[tuple[str, str], ...]], lang: str) -> list[tuple[str, str]]:
    rules = list(table.get(lang, ()))
    if lang != "en":
        rules.extend(table["en"])
    return rules


def shorten(text: str, lang: str) -> str:
    """Cut filler, asides and then the least central sentences until ~70% of the length is left."""
    body, tail = _split_tail(text)
    target = max(1, int(len(body) * 0.7))
    out = apply_rules(body, _rules(bank.FILLERS, lang))
    out = textkit.tidy(re.sub(r"\s*\([^)]*\)", "", out))
    paragraphs = [textkit.split_sentences(p) for p in out.split("\n")]
    # Drop sentences from the middle of the text, latest first: the opening carries the point and
    # a closing question carries the call to engage.
    positions = [(pi, si) for pi, p in enumerate(paragraphs) for si in range(len(p))]
    protected = {positions[0]} if positions else set()
    if len(positions) > 1 and paragraphs[positions[-1][0]][positions[-1][1]].endswith("?"):
        protected.add(positions[-1])
    removable = [pos for pos in reversed(positions) if pos not in protected]

    dropped: set[tuple[int, int]] = set()

    def render() -> str:
        kept = [
            " ".join(s for si, s in enumerate(p) if (pi, si) not in dropped)
            for pi, p in enumerate(paragraphs)
        ]
        return textkit.tidy("\n".join(kept))

    for position in removable:
        if len(render()) <= target:
            break
        dropped.add(position)
    result = render()
    if len(result) > target:
        result = textkit.fit(result, target)
    return _join_tail(result, tail)


def punchier(text: str, lang: str) -> str:
    """Short sentences, strong verbs, no hedges."""
    body, tail = _split_tail(text)
    rules = _rules(bank.HEDGES, lang) + _rules(bank.STRONG_WORDS, lang) + _rules(bank.FILLERS, lang)
    out = apply_rules(body, rules)
    lines = []
    for line in out.split("\n"):
        sentences = textkit.split_sentences(line)
        parts = [p for s in sentences for p in split_long(s, lang, _PUNCHY_SPLIT_WORDS)]
        lines.append(" ".join(parts) if sentences else line)
    return _join_tail(textkit.tidy("\n".join(lines)), tail)


def _claim(text: str) -> tuple[str, bool]:
    sentences = [s for p in text.split("\n") for s in textkit.split_sentences(p)]
    best, best_score = sentences[0], -1
    for index, sentence in enumerate(sentences):
        words = textkit.word_count(sentence)
        score = 0
        score += 3 if re.search(r"\d", sentence) else 0
        score += 2 if 3 <= words <= 14 else 0
        score += 1 if index == 0 else 0
        score += 1 if sentence.endswith("!") else 0
        score -= 2 if sentence.endswith("?") and index == len(sentences) - 1 else 0
        if score > best_score:
            best, best_score = sentence, score
    is_first = best == sentences[0]
    if textkit.word_count(best) > 14 and "," in best:
        best = best.split(",")[0].rstrip() + "."
    return best, is_first


def add_hook(text: str, ph: Phrases) -> str:
    """Prepend a hook line built from the text's most striking sentence."""
    body, tail = _split_tail(text)
    claim, is_first = _claim(body)
    variants = [v for v in ph.variants("hook.suggest") if v != "{claim}"] if is_first else None
    if variants:
        hook = ph.rng.choice(variants).format(claim=claim)
    else:
        hook = ph.pick("hook.suggest", claim=claim) or claim
    # The claim moves to the top rather than appearing twice.
    if claim in body:
        body = textkit.tidy(body.replace(claim, "", 1))
    return _join_tail(textkit.tidy(f"{hook}\n\n{body}"), tail)


def _known_closers(lang: str) -> set[str]:
    closers: set[str] = set()
    for table in (bank.BANKS.get(lang, bank.EN), bank.EN):
        for key, variants in table.items():
            if key == "close" or key.startswith("close."):
                closers.update(variants)
    return closers


def retone(text: str, ph: Phrases, tone: str | None) -> str:
    """Rewrite the scaffolding for another tone (closers, contractions, punctuation, emoji)."""
    style = ph.style
    target = detect_tone(tone) if tone else style.tone
    if tone and target is None:
        raise ValidationFailed(
            f"Unknown tone {tone!r}: the offline template provider knows warm, direct, playful "
            "and formal. Configure an AI provider for free-form tones.",
            errors=[{"field": "tone", "message": "unknown tone"}],
        )
    target = target or "neutral"
    body, tail = _split_tail(text)
    closers = _known_closers(style.lang)
    new_closer = ph.pick("close", tone=target)
    lines = body.split("\n")
    replaced = False
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].strip() in closers and new_closer:
            lines[i] = new_closer
            replaced = True
            break
    out = "\n".join(lines)
    if target == "formal":
        out = strip_exclaims(textkit.strip_emoji(out))
        if style.lang == "en":
            out = expand_contractions(out)
        out = apply_rules(out, bank.CASUAL_TO_FORMAL.get(style.lang, ()))
    elif target == "playful":
        if style.lang == "en":
            out = contract(out)
        first, _, rest = out.partition("\n")
        sentences = textkit.split_sentences(first)
        if sentences and not textkit.emojis_in(out):
            opening = sentences[0]
            if opening.endswith("."):
                opening = opening[:-1] + "!"
            sentences[0] = f"{opening} {style.emoji or bank.DEFAULT_EMOJI}"
            first = " ".join(sentences)
        out = f"{first}\n{rest}" if rest else first
    elif target == "direct":
        out = punchier(out, style.lang)
    if not replaced and new_closer and target in ("warm", "direct", "playful", "formal"):
        out = f"{out}\n\n{new_closer}"
    return _join_tail(textkit.tidy(out), tail)


def strip_exclaims(text: str) -> str:
    """Turn exclamation marks into full stops (formal writing)."""
    return re.sub(r"!+", ".", text).replace("?.", "?")


__all__ = ["TemplateProvider", "derive_style", "detect_tone"]
