"""LinkedIn "little text format" for post commentary (platform-apis 3.4).

LinkedIn reads ``commentary`` as little text: the characters ``\\ | { } @ [ ] ( ) < > # * _ ~``
are markup, and an unescaped one that does not start a valid construct makes LinkedIn silently
cut the post at that point while still answering 201 (platform-apis 3.4, checklist 18). So every
reserved character is backslash-escaped, except the ``#`` of a hashtag, which must stay
unescaped for the tag to stay a link. Comment text is plain text and must NOT go through this.

The rule for what counts as a hashtag matches the content domain's counter, so the length the
editor shows and the length checked here agree.
"""

from __future__ import annotations

import re

RESERVED = frozenset("\\|{}@[]()<>#*_~")
# A '#' that starts a tag: not glued to a word, '#', '&' (HTML entities) or '/' (URL fragments),
# followed by word characters that are not all digits ("#1" is a number, not a tag).
_HASHTAG = re.compile(r"(?<![\w#&/])#(\w+)", re.UNICODE)


def hashtag_positions(text: str) -> set[int]:
    """Indexes of the '#' characters that start a hashtag."""
    return {m.start() for m in _HASHTAG.finditer(text) if not m.group(1).isdigit()}


def escape(text: str, *, keep_hashtags: bool = True) -> str:
    """Backslash-escape every reserved character (hashtag '#' kept when ``keep_hashtags``)."""
    keep = hashtag_positions(text) if keep_hashtags else set()
    return "".join(
        "\\" + char if char in RESERVED and index not in keep else char
        for index, char in enumerate(text)
    )


def mention(display_name: str, urn: str) -> str:
    """A member or organization mention: ``@[Name](urn:li:person:...)``, name escaped."""
    return f"@[{escape(display_name, keep_hashtags=False)}]({urn})"


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units (the safest reading of LinkedIn's 3,000, platform-apis 3.5)."""
    return len(text.encode("utf-16-le")) // 2


def commentary_length(text: str) -> int:
    """What counts against the 3,000 limit: UTF-16 units of the escaped text."""
    return utf16_length(escape(text))
