"""Counting and marking up text the way each platform does (platform-apis.md sections 1.4,
2.3 and 3.4): X's weighted length, Bluesky's graphemes and UTF-8 bytes, LinkedIn's little text
format, and the URLs, mentions and hashtags that must never be split or miscounted."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

import grapheme
from twitter_text import parse_tweet

# Little-text reserved characters (LinkedIn "little text format" docs).
LITTLE_TEXT_RESERVED = set("\\|{}@[]()<>#*_~")

_TLDS = (
    "com|org|net|io|dev|app|ai|co|de|uk|fr|es|it|nl|eu|us|ca|au|ch|at|be|se|no|dk|fi|pl|pt|"
    "br|jp|cn|in|ru|me|info|biz|xyz|tech|social|blog|news|online|site|page|gg|tv|ly|sh|so|to"
)
URL_RE = re.compile(
    r"(?:(?:https?://)[^\s<>\"']+|(?<![@\w.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:"
    + _TLDS
    + r")\b"
    r"(?:/[^\s<>\"']*)?)",
    re.IGNORECASE,
)
MENTION_RE = re.compile(r"(?<![\w@/])@([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)")
HASHTAG_RE = re.compile(r"(?<![\w#&/])#(\w+)", re.UNICODE)
TRAILING_PUNCT = ".,;:!?\"'"

EntityKind = Literal["url", "mention", "hashtag"]


@dataclass(frozen=True)
class Entity:
    """A URL, @mention or #hashtag at ``text[start:end]``."""

    kind: EntityKind
    start: int
    end: int
    value: str


def x_weighted_length(text: str) -> int:
    """twitter-text v3 weighted length: URLs 23, CJK and emoji 2, NFC-normalised first."""
    return int(parse_tweet(text).weightedLength)


def grapheme_length(text: str) -> int:
    """User-perceived characters (what Bluesky limits to 300)."""
    return int(grapheme.length(text))


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def escape_little_text(text: str, *, keep_hashtags: bool = True) -> str:
    """Backslash-escape LinkedIn's reserved characters.

    An unescaped reserved character makes LinkedIn silently truncate the post (platform-apis
    3.4). With ``keep_hashtags`` a ``#`` that starts a hashtag stays unescaped so the tag stays
    a link, which is what people expect from a hashtag.
    """
    keep = (
        {m.start() for m in HASHTAG_RE.finditer(text) if not m.group(1).isdigit()}
        if keep_hashtags
        else set()
    )
    out = []
    for index, char in enumerate(text):
        if char in LITTLE_TEXT_RESERVED and index not in keep:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def linkedin_length(text: str) -> int:
    """Length LinkedIn sees: UTF-16 code units after little-text escaping (platform-apis 3.5)."""
    return utf16_length(escape_little_text(text))


def _trim_url(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in TRAILING_PUNCT:
        end -= 1
    # An unbalanced closing parenthesis belongs to the sentence, not the URL.
    while (
        end > start
        and text[end - 1] == ")"
        and text[start:end].count("(") < text[start:end].count(")")
    ):
        end -= 1
    return end


def find_entities(text: str) -> list[Entity]:
    """URLs (with or without scheme), mentions and hashtags, in order, never overlapping."""
    found: list[Entity] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    for match in URL_RE.finditer(text):
        start = match.start()
        end = _trim_url(text, start, match.end())
        if end > start and free(start, end):
            taken.append((start, end))
            found.append(Entity("url", start, end, text[start:end]))
    for match in MENTION_RE.finditer(text):
        start, end = match.start(), match.end()
        end = start + 1 + len(match.group(1).rstrip("."))
        if free(start, end):
            taken.append((start, end))
            found.append(Entity("mention", start, end, text[start + 1 : end]))
    for match in HASHTAG_RE.finditer(text):
        tag = match.group(1)
        if tag.isdigit():
            continue
        start, end = match.start(), match.end()
        if free(start, end):
            taken.append((start, end))
            found.append(Entity("hashtag", start, end, tag))
    return sorted(found, key=lambda e: e.start)


def utf8_span(text: str, start: int, end: int) -> tuple[int, int]:
    """String indexes to UTF-8 byte offsets (Bluesky facets count bytes)."""
    byte_start = len(text[:start].encode("utf-8"))
    return byte_start, byte_start + len(text[start:end].encode("utf-8"))


def graphemes(text: str) -> list[str]:
    """The text as grapheme clusters (emoji ZWJ sequences, flags, combining marks intact)."""
    return list(grapheme.graphemes(text))


def normalise_for_compare(text: str) -> str:
    """Casefolded NFKC text without URLs, punctuation or repeated spaces."""
    text = URL_RE.sub(" ", unicodedata.normalize("NFKC", text)).casefold()
    text = re.sub(r"[^\w\s#@]", " ", text)
    return re.sub(r"\s+", " ", text).strip()
