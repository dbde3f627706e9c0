"""A persona's rules applied to what a model wrote, after generation, for every provider.

Models ignore instructions (the weak local model in the tests does so often), so the prompt's
rules are checked again on the answer:

- **banned phrases**: the sentences holding one are removed (``textkit.scrub_banned``);
- **blocked domains**: the sentences linking to or naming a blocked domain (or a subdomain) are
  removed;
- **hashtags**: a persona's hashtags are its list. A tag the model made up loses its ``#`` in a
  sentence and is dropped from a line of tags; and no more tags stay than the strictest cap of
  the target platforms (X 2, Bluesky 3, LinkedIn 5), so the variants' own tags still fit;
- **language**: a text long enough to judge that the language identifier (py3langid) places
  confidently in another language than the persona's is rejected.

What is left empty, or is in the wrong language, is rejected with the reasons
(``DraftRejected``): a provider drops such a draft and fails only when none is usable.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from digipersona.generation import textkit
from digipersona.generation.errors import AIProviderError
from digipersona.kit.domains import blocked_hosts, readable
from digipersona.kit.richtext import find_entities, normalise_hashtag

# Tags a post may carry per platform (the variants add the persona's up to the same caps).
HASHTAG_CAPS: Final[dict[str, int | None]] = {"linkedin": 5, "x": 2, "bluesky": 3, "webhook": None}
# Below this many words the identifier guesses; such texts are not judged.
_MIN_WORDS: Final = 6
# Judged another language only when the identifier is this sure of it and gives the persona's
# own language almost no chance (mixed or borrowed words stay allowed).
_CONFIDENT: Final = 0.9
_OWN_CHANCE: Final = 0.05


class DraftRejected(AIProviderError):
    """The model's text breaks the persona's rules beyond repair (the reasons say how)."""

    title = "Draft rejected by the persona's rules"
    type_slug = "draft-rejected"


@dataclass(frozen=True)
class Checked:
    """The text after the rules, and what was changed (for logs and tests)."""

    text: str
    removed: tuple[str, ...] = ()


def enforce(
    text: str,
    *,
    language: str,
    banned_phrases: Sequence[str] = (),
    blocked_domains: Sequence[str] = (),
    hashtags: Sequence[str] = (),
    platforms: Sequence[str] = (),
    provider: str = "",
    check_language: bool = True,
) -> Checked:
    """The text with the persona's rules applied, or ``DraftRejected`` naming why not."""
    removed: list[str] = []
    out = textkit.scrub_banned(text, banned_phrases)
    if out != text:
        removed.append("banned phrase")
    cleaned = scrub_blocked(out, blocked_domains)
    if cleaned != out:
        removed.append("link to a blocked domain")
    out = cleaned
    tagged = fix_hashtags(out, hashtags, platforms)
    if tagged != out:
        removed.append("hashtag outside the persona's rules")
    out = tagged
    reasons: list[str] = []
    if not out.strip():
        reasons.append(
            "Nothing was left after removing "
            + (", ".join(dict.fromkeys(removed)) or "the empty text")
            + "."
        )
    elif check_language:
        wrong = language_mismatch(out, language)
        if wrong is not None:
            reasons.append(wrong)
    if reasons:
        raise DraftRejected(
            "The model's draft breaks the persona's rules: " + " ".join(reasons),
            reason="persona_rules",
            extra={"provider": provider, "reasons": reasons},
        )
    return Checked(out, tuple(dict.fromkeys(removed)))


# -- blocked domains ----------------------------------------------------------------------------
def scrub_blocked(text: str, blocked: Sequence[str]) -> str:
    """Remove every sentence that links to or names a blocked domain."""
    if not blocked or not blocked_hosts(text, blocked):
        return text
    lines: list[str] = []
    for line in text.split("\n"):
        if not blocked_hosts(line, blocked):
            lines.append(line)
            continue
        lines.append(" ".join(s for s in _sentences(line) if not blocked_hosts(s, blocked)))
    out = textkit.tidy("\n".join(lines))
    # A host the sentence splitter could not isolate (no sentence end) goes on its own.
    for host, _domain in blocked_hosts(out, blocked):
        out = re.sub(r"\S*" + re.escape(readable(host)) + r"\S*", "", out, flags=re.IGNORECASE)
    return textkit.tidy(out)


def _sentences(line: str) -> list[str]:
    """Sentences of a line, not split inside a link (``spam.example/x`` holds a dot)."""
    protected = line
    urls = [e for e in find_entities(line) if e.kind == "url"]
    for entity in reversed(urls):
        value = line[entity.start : entity.end]
        protected = protected[: entity.start] + value.replace(".", "\0") + protected[entity.end :]
    return [s.replace("\0", ".") for s in textkit.split_sentences(protected)]


# -- hashtags -----------------------------------------------------------------------------------
def hashtag_cap(platforms: Sequence[str]) -> int | None:
    """The strictest cap among the target platforms (None: no cap)."""
    caps = [c for c in (HASHTAG_CAPS.get(p) for p in platforms) if c is not None]
    return min(caps) if caps else None


def fix_hashtags(text: str, own: Sequence[str], platforms: Sequence[str]) -> str:
    """Keep only the persona's own tags, at most the platforms' cap; others lose their ``#``
    inside a sentence and are dropped from a line of tags."""
    allowed = {t[1:].casefold() for t in (normalise_hashtag(o) for o in own) if t}
    cap = hashtag_cap(platforms)
    tags = [e for e in find_entities(text) if e.kind == "hashtag"]
    if not tags:
        return text
    keep: set[int] = set()
    seen: set[str] = set()
    for entity in tags:
        key = entity.value.casefold()
        if key in allowed and key not in seen and (cap is None or len(keep) < cap):
            keep.add(entity.start)
            seen.add(key)
    if len(keep) == len(tags):
        return text
    out = text
    for entity in reversed(tags):
        if entity.start in keep:
            continue
        line_start = out.rfind("\n", 0, entity.start) + 1
        line_end = out.find("\n", entity.end)
        line = out[line_start : len(out) if line_end == -1 else line_end]
        tag_line = re.fullmatch(r"(?:\s*[#＃][^\s#＃]+)+\s*", line) is not None
        replacement = "" if tag_line else entity.value
        out = out[: entity.start] + replacement + out[entity.end :]
    return textkit.tidy(out)


# -- language -----------------------------------------------------------------------------------
_identifier: dict[str, Any] = {}
_identifier_lock = threading.Lock()


def _get_identifier() -> Any:
    """py3langid's model, loaded once on first use (it takes seconds: not at import, so a
    process that never judges a draft never pays it) and shared by threads."""
    with _identifier_lock:
        if "model" not in _identifier:
            _identifier["model"] = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _identifier["model"]


def _judgeable(text: str) -> str:
    """The words of ``text`` without links, mentions and hashtags."""
    out = text
    for entity in reversed(find_entities(text)):
        out = out[: entity.start] + " " + out[entity.end :]
    return " ".join(out.split())


def detect_language(text: str) -> tuple[str, float] | None:
    """(language code, probability), or None for a text too short to judge."""
    words = _judgeable(text)
    if textkit.word_count(words) < _MIN_WORDS:
        return None
    code, probability = _get_identifier().classify(words)
    return str(code), float(probability)


def language_mismatch(text: str, language: str) -> str | None:
    """Why ``text`` is not in ``language`` (a primary subtag such as "de"), or None."""
    want = language.replace("_", "-").split("-")[0].lower()
    found = detect_language(text)
    if found is None:
        return None
    code, probability = found
    if code == want or probability < _CONFIDENT:
        return None
    identifier = _get_identifier()
    if want not in identifier.nb_classes:
        return None  # a language the identifier does not know: not judged
    own = dict(identifier.rank(_judgeable(text))).get(want, 0.0)
    if own >= _OWN_CHANCE:
        return None
    return (
        f"It is written in {textkit.language_name(code)}, but the persona writes in "
        f"{textkit.language_name(want)}."
    )
