"""Parsing X API v2 payloads (platform-apis 1.1-1.7), tolerant of the 2.167 field renames."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# twitter_text is imported inside the functions that use it: it compiles large URL and emoji
# patterns at import (~1 s), which every process start would otherwise pay.
_TCO = re.compile(r"https?://t\.co/\w+")
_URL_PLACEHOLDER = "\x00url\x00"


@dataclass(frozen=True)
class Tweet:
    """The parts of a post object the provider needs; ids are always strings (1.3)."""

    id: str
    text: str
    created_at: datetime | None
    conversation_id: str | None
    replied_to: str | None


@dataclass(frozen=True)
class Problem:
    """A v2 problem+json error (1.7), with the v1.1 body as a fallback."""

    status: int
    title: str
    detail: str
    type: str
    extra: Mapping[str, Any]

    def type_is(self, suffix: str) -> bool:
        """Match a problem type on its suffix: it appears under api.twitter.com and api.x.com."""
        return self.type.rstrip("/").endswith("/problems/" + suffix)

    @property
    def message(self) -> str:
        """A human-readable summary: detail, then any per-parameter messages."""
        messages = [
            str(e.get("message"))
            for e in self.extra.get("errors") or []
            if isinstance(e, Mapping) and e.get("message")
        ]
        text = self.detail or self.title or f"HTTP {self.status}"
        return "; ".join([text, *messages]) if messages else text


def parse_problem(status: int, body: Mapping[str, Any]) -> Problem:
    """Read a problem body; v1.1-style ``errors[0].message`` is used only when detail is absent."""
    detail = str(body.get("detail") or "")
    if not detail:
        for error in body.get("errors") or []:
            if isinstance(error, Mapping) and error.get("message"):
                detail = str(error["message"])
                break
    if not detail and body.get("error_description"):
        detail = str(body["error_description"])
    return Problem(
        status=int(body.get("status") or status),
        title=str(body.get("title") or body.get("error") or ""),
        detail=detail,
        type=str(body.get("type") or ""),
        extra=body,
    )


def _first(mapping: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        if name in mapping:
            return mapping[name]
    return None


def parse_time(value: Any) -> datetime | None:
    """Parse X's ``created_at`` (``2026-08-22T06:30:00.000Z``)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_tweet_object(data: Mapping[str, Any]) -> Tweet:
    """A post object; ``referenced_tweets`` and its 2.167 name ``referenced_posts`` (1.1)."""
    replied_to = None
    for ref in _first(data, "referenced_tweets", "referenced_posts") or []:
        if isinstance(ref, Mapping) and ref.get("type") == "replied_to":
            replied_to = str(ref.get("id"))
    return Tweet(
        id=str(data.get("id", "")),
        text=str(data.get("text", "")),
        created_at=parse_time(data.get("created_at")),
        conversation_id=str(data["conversation_id"]) if data.get("conversation_id") else None,
        replied_to=replied_to,
    )


def edit_history_ids(data: Mapping[str, Any]) -> list[str]:
    """``edit_history_tweet_ids`` or its 2.167 name ``edit_history_post_ids``, as strings."""
    ids = _first(data, "edit_history_tweet_ids", "edit_history_post_ids") or []
    return [str(i) for i in ids]


def public_metrics(data: Mapping[str, Any]) -> dict[str, int]:
    """``public_metrics`` with ``retweet_count``/``repost_count`` read as ``repost_count``."""
    raw = data.get("public_metrics") or {}
    metrics = {str(k): int(v) for k, v in raw.items() if isinstance(v, int)}
    if "retweet_count" in metrics and "repost_count" not in metrics:
        metrics["repost_count"] = metrics.pop("retweet_count")
    return metrics


def comparable_text(text: str, *, from_x: bool) -> str:
    """Text reduced to what survives a round trip through X, for matching our own posts.

    X returns text HTML-escaped (``&amp;``) with every URL rewritten to a t.co link, so both
    sides replace URLs with one token and compare the rest, NFC-normalised (1.3, 1.4).
    """
    if from_x:
        text = _TCO.sub(_URL_PLACEHOLDER, html.unescape(text))
    else:
        from twitter_text import extract_urls_with_indices  # see the note above _TCO

        pieces, last = [], 0
        for url in extract_urls_with_indices(text):
            start, end = url["indices"]
            pieces.extend([text[last:start], _URL_PLACEHOLDER])
            last = end
        pieces.append(text[last:])
        text = "".join(pieces)
    return unicodedata.normalize("NFC", text).strip()


def weighted_length(text: str) -> int:
    """twitter-text v3 weighted length (URLs 23, most non-Latin characters and emoji 2)."""
    from twitter_text import parse_tweet  # see the note above _TCO

    return int(parse_tweet(text).weightedLength)


def has_url(text: str) -> bool:
    """Whether X will see a URL in the text (with or without a scheme; 1.4)."""
    from twitter_text import extract_urls_with_indices  # see the note above _TCO

    return bool(extract_urls_with_indices(text))


def scopes_from(value: Any) -> tuple[str, ...]:
    """X's token ``scope`` is space-separated."""
    return tuple(value.split()) if isinstance(value, str) else ()
