"""Counting and marking up text the way each platform does (platform-apis.md 1.4, 2.3, 2.4, 3.4).

X's weighted length, Bluesky's graphemes and UTF-8 bytes, LinkedIn's little text format, and the
URLs, mentions and hashtags that must never be split or miscounted. Nothing here knows about
posts or personas: the content domain (``digipersona.posts``) builds on these helpers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import grapheme

# Little-text reserved characters (platform-apis 3.4, LinkedIn "little text format" docs).
LITTLE_TEXT_RESERVED = frozenset("\\|{}@[]()<>#*_~")

# Top-level domains that make a bare ``name.tld`` a link. Deliberately not the full IANA list:
# file names such as ``setup.py`` or ``README.md`` would otherwise become links. Every URL with a
# scheme is a link whatever its TLD.
_GENERIC_TLDS = (
    "com org net edu gov mil int io dev app ai co info biz xyz tech social blog news online site"
    " page gg tv ly so to fm me cc ws name pro mobi art design agency studio club today world life"
    " live network systems solutions software cloud digital email link shop store space website"
    " fun top wiki zone media press works tools team academy"
)
_COUNTRY_TLDS = (
    "de uk fr es it nl eu us ca au ch at be se no dk fi pl pt br jp cn in ru ie nz za mx ar cl kr"
    " tw hk sg id ph th vn tr gr cz sk hu ro bg hr si ua il ae sa eg ng ke lt lv ee lu li"
)
# Longest first, so that "co" never wins over "com" in the alternation.
_TLDS = sorted({*_GENERIC_TLDS.split(), *_COUNTRY_TLDS.split()}, key=len, reverse=True)
URL_RE = re.compile(
    r"https?://[^\s<>\"']+"
    r"|(?<![@\w.\-/])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:"
    + "|".join(_TLDS)
    + r")\b(?![-@])(?::\d{1,5})?(?:/[^\s<>\"']*)?",
    re.IGNORECASE,
)
# X handles are [A-Za-z0-9_]; Bluesky handles are domain names (``dana.bsky.social``).
MENTION_RE = re.compile(r"(?<![\w@/])@([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)")
# A '#' starts a hashtag when it is not glued to a word, another '#', '&' (HTML entities) or '/'
# (URL fragments). The same rule decides which '#' stays unescaped in little text
# (platforms/linkedin/littletext.py), so the editor's LinkedIn count and the client's agree.
HASHTAG_RE = re.compile(r"(?<![\w#&/])#(\w+)")
URL_TRAILING_PUNCTUATION = ".,;:!?\"'"
# A dot followed by a word character: where a domain (hence a URL) could be in ASCII text.
_DOT_WORD_RE = re.compile(r"\.\w")

EntityKind = Literal["url", "mention", "hashtag"]


@dataclass(frozen=True)
class Entity:
    """A URL, @mention or #hashtag at ``text[start:end]`` (``value`` without ``@``/``#``)."""

    kind: EntityKind
    start: int
    end: int
    value: str


# -- counting ------------------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def x_weighted_length(text: str) -> int:
    """twitter-text v3 weighted length: URLs 23, CJK and emoji 2, NFC-normalised first (1.4)."""
    # parse_tweet is pure Python and slow (about 1 ms for 280 characters); the thread splitter
    # asks about the same candidate strings repeatedly, hence the cache. Imported here: the
    # package compiles its large URL and emoji patterns at import (~1 s), which every process
    # start would pay, `digipersona --help` included, though only X counting needs them.
    if text.isascii() and "\r" not in text and "://" not in text and not _DOT_WORD_RE.search(text):
        # Fast path, exact: every ASCII character weighs 1 (the range 0-4351 of the v3
        # configuration; the count is per grapheme, so "\r\n", one cluster, is left to
        # parse_tweet), ASCII holds no emoji, and without a dot joined to a word character nor
        # a scheme there is no URL (a URL needs a domain with a TLD). A bulk import of
        # 10,000 rows would otherwise spend most of its time here.
        return len(text)
    from twitter_text import parse_tweet

    return int(parse_tweet(text).weightedLength)


def grapheme_length(text: str, until: int | None = None) -> int:
    """User-perceived characters, what Bluesky limits to 300; stops counting at ``until``."""
    return int(grapheme.length(text, until))


def utf8_length(text: str) -> int:
    """Bytes in UTF-8 (Bluesky's second limit, and the unit of facet offsets)."""
    return len(text.encode("utf-8"))


def utf16_length(text: str) -> int:
    """UTF-16 code units (the safest reading of LinkedIn's 3,000 characters, 3.5)."""
    return len(text.encode("utf-16-le")) // 2


def graphemes(text: str) -> list[str]:
    """The text as grapheme clusters (emoji ZWJ sequences, flags, combining marks intact)."""
    return list(grapheme.graphemes(text))


def grapheme_boundaries(text: str) -> list[int]:
    """String indexes where the text may be cut without breaking a user-perceived character.

    Starts with 0 and ends with ``len(text)``. On top of the ``grapheme`` package's clusters
    (Unicode 13 data), a cut is also refused right after a virama or a zero-width joiner: Unicode
    15.1 joins Indic conjuncts such as "क्ष" into one cluster, and newer counters (Bluesky's)
    may already do so.
    """
    bounds = [0]
    for cluster in grapheme.graphemes(text):
        bounds.append(bounds[-1] + len(cluster))
    return [
        b
        for b in bounds
        if b in (0, len(text))
        or not (unicodedata.combining(text[b - 1]) == 9 or text[b - 1] == "\u200d")
    ]


# -- LinkedIn little text ------------------------------------------------------------------------
def _hashtag_hash_positions(text: str) -> set[int]:
    # "#_tag" would become "#\_tag" once the '_' is escaped, and a '#' followed by a backslash
    # starts no construct: LinkedIn would cut the post there. Such a '#' is escaped too.
    return {
        m.start()
        for m in HASHTAG_RE.finditer(text)
        if not m.group(1).isdigit() and not m.group(1).startswith("_")
    }


def escape_little_text(text: str, *, keep_hashtags: bool = True) -> str:
    """Backslash-escape LinkedIn's reserved characters ``\\ | { } @ [ ] ( ) < > # * _ ~``.

    An unescaped reserved character makes LinkedIn silently cut the post there while answering
    201 (platform-apis 3.4, checklist 18), so every one is escaped. With ``keep_hashtags`` (the
    default) the ``#`` that starts a hashtag (not glued to a word, followed by word characters
    that are not all digits and do not start with ``_``) stays unescaped, because an escaped
    ``#`` is shown but no longer links the tag. Everything else in the tag, ``_`` included, is
    still escaped: a stray ``_`` is a truncation risk, while an escaped one only shortens the
    linked part of the tag.
    """
    keep = _hashtag_hash_positions(text) if keep_hashtags else set()
    return "".join(
        "\\" + char if char in LITTLE_TEXT_RESERVED and index not in keep else char
        for index, char in enumerate(text)
    )


def linkedin_length(text: str) -> int:
    """Length LinkedIn sees: UTF-16 code units after little-text escaping (platform-apis 3.5)."""
    return utf16_length(escape_little_text(text))


# -- entities ------------------------------------------------------------------------------------
def _is_tag_char(char: str) -> bool:
    # Python's \w misses combining marks (the vowel signs of Indic scripts, a decomposed accent),
    # which would cut "#हिन्दी" or "#cafe\u0301" short.
    return char.isalnum() or char == "_" or unicodedata.category(char)[0] == "M"


def _trim_url(text: str, start: int, end: int) -> int:
    """Drop trailing sentence punctuation and unbalanced closing parentheses."""
    while end > start:
        last = text[end - 1]
        if last in URL_TRAILING_PUNCTUATION:
            end -= 1
        elif last == ")" and text.count("(", start, end) < text.count(")", start, end):
            # "(see https://x.io/a)": the parenthesis belongs to the sentence, while
            # "https://en.wikipedia.org/wiki/Foo_(bar)" keeps its balanced pair.
            end -= 1
        else:
            break
    return end


def find_entities(text: str) -> list[Entity]:
    """URLs (with or without scheme), mentions and hashtags, in order and never overlapping."""
    found: list[Entity] = []
    taken: list[tuple[int, int]] = []

    def claim(kind: EntityKind, start: int, end: int, value: str) -> None:
        if end > start and all(end <= a or start >= b for a, b in taken):
            taken.append((start, end))
            found.append(Entity(kind, start, end, value))

    for match in URL_RE.finditer(text):
        start = match.start()
        end = _trim_url(text, start, match.end())
        claim("url", start, end, text[start:end])
    for match in MENTION_RE.finditer(text):
        claim("mention", match.start(), match.end(), match.group(1))
    for match in HASHTAG_RE.finditer(text):
        if match.group(1).isdigit():
            continue  # "#1" is a number, not a tag
        end = match.end()
        while end < len(text) and _is_tag_char(text[end]):
            end += 1
        claim("hashtag", match.start(), end, text[match.start() + 1 : end])
    return sorted(found, key=lambda e: e.start)


def utf8_span(text: str, start: int, end: int) -> tuple[int, int]:
    """String indexes to UTF-8 byte offsets (Bluesky facets count bytes, platform-apis 2.3)."""
    byte_start = utf8_length(text[:start])
    return byte_start, byte_start + utf8_length(text[start:end])


def normalise_hashtag(tag: str) -> str | None:
    """``"#Tag"`` from ``"Tag"``, ``"#Tag"`` or ``"remote work"``; None when it cannot be a tag."""
    body = re.sub(r"[\s\-.]+", "", unicodedata.normalize("NFC", tag)).lstrip("#＃")
    if not body or body.isdigit() or not all(_is_tag_char(c) for c in body):
        return None
    return "#" + body


# -- comparison ----------------------------------------------------------------------------------
def normalise_for_compare(text: str) -> str:
    """Casefolded NFKC text without URLs, punctuation, symbols or repeated spaces."""
    text = unicodedata.normalize("NFKC", text)
    for entity in reversed([e for e in find_entities(text) if e.kind == "url"]):
        text = text[: entity.start] + " " + text[entity.end :]
    text = "".join(c if _is_tag_char(c) else " " for c in text.casefold())
    return " ".join(text.split())
