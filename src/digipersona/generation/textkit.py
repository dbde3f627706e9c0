"""Text helpers shared by every provider: sentences, banned phrases, emoji, model-output cleanup."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”»)]*\s+(?=[^\s])")
_EMOJI = re.compile(
    "[\U0001f300-\U0001faff\U0001f000-\U0001f02f\u2600-\u27bf\u2b50\u2b55\u2705\u203c\u2049]\ufe0f?"
)
_HASHTAG = re.compile(r"(?<![\w#])#\w+", re.UNICODE)
_URL = re.compile(r"https?://\S+")
_PREAMBLE = re.compile(
    r"^(sure|okay|ok|certainly|of course|absolutely|here(?:'s| is| are)|voici|hier ist|aquí)\b"
    r"[^\n]*:\s*$",
    re.IGNORECASE,
)
_LABEL = re.compile(
    r"^(post|draft|reply|text|answer|hook|entwurf|brouillon|borrador)\s*\d*\s*:\s*", re.IGNORECASE
)
_QUOTES = {'"': '"', "“": "”", "„": "“", "«": "»", "'": "'"}


def split_sentences(text: str) -> list[str]:
    """Split one paragraph into sentences, keeping their end punctuation."""
    text = " ".join(text.split())
    if not text:
        return []
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def word_count(text: str) -> int:
    """Count words, ignoring punctuation-only tokens."""
    return sum(1 for w in text.split() if any(ch.isalnum() for ch in w))


def emojis_in(text: str) -> list[str]:
    """Return the emoji in ``text`` in order of appearance."""
    return _EMOJI.findall(text)


def strip_emoji(text: str) -> str:
    """Remove every emoji and tidy the spaces it leaves."""
    return tidy(_EMOJI.sub("", text))


def hashtags_in(text: str) -> list[str]:
    """Return the hashtags in ``text`` in order, without duplicates."""
    seen: list[str] = []
    for tag in _HASHTAG.findall(text):
        if tag.lower() not in (t.lower() for t in seen):
            seen.append(tag)
    return seen


def urls_in(text: str) -> list[str]:
    """Return the URLs in ``text``."""
    return _URL.findall(text)


def normalise_hashtag(tag: str) -> str:
    """Turn "remote work" or "#RemoteWork" into "#RemoteWork"-style single-token tags."""
    words = re.findall(r"\w+", tag.lstrip("#"), re.UNICODE)
    if not words:
        return ""
    if len(words) == 1:
        return "#" + str(words[0])
    return "#" + "".join(w[:1].upper() + w[1:] for w in words)


def tidy(text: str) -> str:
    """Collapse runs of spaces, drop spaces before punctuation and trailing blanks per line."""
    lines = []
    for line in text.split("\n"):
        line = re.sub(r"[ \t]+", " ", line).strip()
        line = re.sub(r" +([,.;!?])(?!\S*://)", r"\1", line) if not line.startswith("#") else line
        line = re.sub(r"([,;:])(?=[.!?])", "", line)
        lines.append(line)
    out = "\n".join(lines)
    out = re.sub(r"\n{3,}", "\n\n", out)
    return out.strip()


def capitalise(text: str) -> str:
    """Upper-case the first letter, leaving the rest alone."""
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1 :]
    return text


def contains_phrase(text: str, phrases: Iterable[str]) -> bool:
    """True when any phrase occurs in ``text``, ignoring case."""
    folded = text.casefold()
    return any(p.casefold() in folded for p in phrases if p)


def scrub_banned(text: str, banned: Sequence[str]) -> str:
    """Remove every sentence (or, failing that, every occurrence) holding a banned phrase.

    Dropping the whole sentence keeps the rest readable; only when a phrase survives that (for
    example inside a hashtag) is the phrase itself cut out.
    """
    phrases = [p for p in banned if p.strip()]
    if not phrases or not contains_phrase(text, phrases):
        return text
    kept_lines: list[str] = []
    for line in text.split("\n"):
        if not contains_phrase(line, phrases):
            kept_lines.append(line)
            continue
        bullet = re.match(r"^\s*([-•→*–✅]|\d+[.)])\s+", line)
        sentences = [s for s in split_sentences(line) if not contains_phrase(s, phrases)]
        if sentences and bullet and not sentences[0].startswith(bullet.group(0).strip()):
            sentences[0] = bullet.group(0).strip() + " " + sentences[0]
        kept_lines.append(" ".join(sentences))
    out = "\n".join(kept_lines)
    for phrase in phrases:
        out = re.sub(re.escape(phrase), "", out, flags=re.IGNORECASE)
    out = re.sub(r"(?m)^\s*([-•→*–✅]|\d+[.)])\s*$", "", out)
    return tidy(out)


def clean_model_text(text: str) -> str:
    """Strip what chat models wrap around the text: code fences, preambles, labels, quotes."""
    out = text.strip()
    if out.startswith("```"):
        lines = out.split("\n")[1:]
        if lines and lines[-1].strip().startswith("```"):
            lines = lines[:-1]
        out = "\n".join(lines).strip()
    lines = out.split("\n")
    if len(lines) > 1 and _PREAMBLE.match(lines[0].strip()):
        out = "\n".join(lines[1:]).strip()
    out = _LABEL.sub("", out, count=1).strip()
    if len(out) >= 2 and out[0] in _QUOTES and out[-1] == _QUOTES[out[0]]:
        inner = out[1:-1]
        if out[0] not in inner:
            out = inner.strip()
    return out


def weighted_length(text: str) -> int:
    """Approximate X's weighted length: URLs count 23, wide characters and emoji count 2."""
    total = 0
    rest = text
    for url in urls_in(text):
        rest = rest.replace(url, "", 1)
        total += 23
    for ch in rest:
        total += 2 if ord(ch) > 0x10FF else 1
    return total


def fit(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` (weighted), at a sentence if possible, else at a word, with '…'."""
    if weighted_length(text) <= limit:
        return text
    kept = ""
    for sentence in split_sentences(text):
        candidate = f"{kept} {sentence}".strip()
        if weighted_length(candidate) > limit:
            break
        kept = candidate
    if kept:
        return kept
    words = text.split()
    out = ""
    for word in words:
        candidate = f"{out} {word}".strip()
        if weighted_length(candidate.rstrip(",;:") + "…") > limit:
            break
        out = candidate
    return out.rstrip(",;:") + "…"


LANGUAGE_NAMES: Final = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
    "pt": "Portuguese",
    "pl": "Polish",
    "sv": "Swedish",
    "da": "Danish",
    "no": "Norwegian",
    "nb": "Norwegian",
    "fi": "Finnish",
    "cs": "Czech",
    "tr": "Turkish",
    "ja": "Japanese",
    "zh": "Chinese",
    "ko": "Korean",
    "uk": "Ukrainian",
    "ru": "Russian",
}


def language_name(code: str) -> str:
    """English name of a language code, or the code itself."""
    return str(LANGUAGE_NAMES.get(code.replace("_", "-").split("-")[0].lower(), code))
