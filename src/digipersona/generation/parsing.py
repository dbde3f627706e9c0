"""Reading a post out of whatever a chat model answered.

Models asked for ``{"post": "..."}`` do not always comply, least of all small local ones: they wrap
the JSON in prose or code fences, stop mid-string when the token budget runs out, return a list or
a different key, or ignore the format and write the post as plain text. ``read_post`` turns each of
these into the post's text, or returns "" when nothing usable is there (the caller raises a clear
error then, never a 500).
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from digipersona.generation import textkit

# Keys a model may use for the post's text, in order of preference.
_TEXT_KEYS: Final = ("post", "text", "content", "body", "draft", "message", "tweet")
_LIST_KEYS: Final = ("posts", "drafts", "items", "variants")
_FENCE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)(?:```|$)", re.DOTALL)
# An opening {"post": " whose string never closed (the answer was cut off).
_OPEN_STRING = re.compile(r'\{\s*"(?:' + "|".join(_TEXT_KEYS) + r')"\s*:\s*"', re.IGNORECASE)


def read_post(raw: str) -> str:
    """The post's text in ``raw`` (JSON or plain), or "" when there is none."""
    text = raw.strip()
    if not text:
        return ""
    for candidate in _json_candidates(text):
        found = _text_of(candidate)
        if found is not None:
            return found.strip()
    truncated = _truncated_string(text)
    if truncated is not None:
        return truncated
    if text.lstrip().startswith(("{", "[")):
        return ""  # JSON-looking but unreadable: better no draft than a draft of braces
    return textkit.clean_model_text(text)


def _json_candidates(text: str) -> list[Any]:
    """Every JSON value found in ``text``: the whole, fenced blocks, then balanced spans."""
    sources = [text] + [m.group(1) for m in _FENCE.finditer(text)]
    found: list[Any] = []
    decoder = json.JSONDecoder()
    for source in sources:
        for start, char in enumerate(source):
            if char not in "{[":
                continue
            try:
                value, _ = decoder.raw_decode(source, start)
            except ValueError:
                continue
            found.append(value)
            break
    return found


def _text_of(value: Any) -> str | None:
    """The post inside a decoded JSON value: a text key, the first item of a list, a string."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, list):
        for item in value:
            found = _text_of(item)
            if found is not None:
                return found
        return None
    if not isinstance(value, dict):
        return None
    lowered = {str(k).lower(): v for k, v in value.items()}
    for key in _TEXT_KEYS + _LIST_KEYS:
        if key in lowered:
            found = _text_of(lowered[key])
            if found is not None:
                return found
    return None


def _truncated_string(text: str) -> str | None:
    """The readable part of ``{"post": "...`` cut off before its closing quote, ending at the
    last whole sentence (or word): a cut-off answer never ends mid-word."""
    match = _OPEN_STRING.search(text)
    if match is None:
        return None
    body = text[match.end() :]
    closing = re.search(r'(?<!\\)"', body)
    if closing is not None:
        body = body[: closing.start()]
    try:
        body = json.loads('"' + body.rstrip("\\") + '"')
    except ValueError:
        body = body.replace("\\n", "\n").replace('\\"', '"')
    if closing is None:
        body = _whole_part(body)
    body = body.strip()
    return body or None


def _whole_part(text: str) -> str:
    """``text`` without its unfinished last sentence, or else without its last partial word."""
    sentences = textkit.split_sentences(text.replace("\n", " \n "))
    if len(sentences) > 1 and not re.search(r"[.!?…]$", sentences[-1]):
        cut = text.rfind(sentences[-1].split()[0])
        if cut > 0:
            return text[:cut].rstrip()
    if re.search(r"[.!?…]$", text.rstrip()):
        return text
    return text.rsplit(None, 1)[0] if " " in text.strip() else text
