"""Fetching and reading RSS/Atom feeds: conditional GET, size and time caps, feedparser.

The autopilot fetches a feed with the outbound guard's client (``kit/outbound.py``: public
addresses only, each redirect hop checked; redirects are followed for feeds only), with
``If-None-Match``/``If-Modified-Since`` from the previous 200 answer, so an unchanged feed costs
one 304. The body is read in chunks and refused once it passes ``max_bytes`` or the total time
passes ``timeout``; XML that does not parse, a document that is no feed, or more than
``max_items`` entries are errors too. Every error is a ``FeedError`` with a sentence for people.
"""

from __future__ import annotations

import hashlib
import html
import re
import time
import xml.sax
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser
import httpx

from digipersona.kit.outbound import OutboundRefused

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
_TAG = re.compile(r"<[^>]+>")
SUMMARY_CHARS = 1500


class FeedError(Exception):
    """A feed could not be fetched or read; ``str(error)`` says why."""


@dataclass(frozen=True)
class FeedEntry:
    """One feed item, reduced to what a draft needs."""

    key: str  # SHA-256 of the guid (or the link, or the title)
    title: str
    link: str | None
    summary: str
    published: datetime | None


@dataclass
class FeedResult:
    not_modified: bool
    entries: list[FeedEntry] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None


def plain_text(value: str) -> str:
    """Feed HTML to one line of text."""
    text = html.unescape(_TAG.sub(" ", value or ""))
    return " ".join(text.split())


def _when(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    try:
        year, month, day, hour, minute, second = (int(v) for v in parsed[:6])
        return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def item_key(identity: str) -> str:
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


def parse(data: bytes, content_type: str, *, max_items: int) -> list[FeedEntry]:
    """Entries of a feed document, newest first; raises ``FeedError`` for anything unusable."""
    parsed = feedparser.parse(data, response_headers={"content-type": content_type})
    problem = parsed.get("bozo_exception")
    if parsed.get("bozo") and isinstance(problem, xml.sax.SAXException):
        raise FeedError(f"The feed is not well-formed XML ({problem}).")
    if not parsed.get("version"):
        raise FeedError("The address does not serve an RSS or Atom feed.")
    raw = list(parsed.entries)
    if len(raw) > max_items:
        raise FeedError(
            f"The feed has {len(raw)} items; at most {max_items} are read "
            "(DIGIPERSONA_AUTOPILOT_FEED_MAX_ITEMS)."
        )
    entries = []
    for position, entry in enumerate(raw):
        link = entry.get("link") or None
        title = plain_text(entry.get("title") or "")
        identity = entry.get("id") or link or title
        if not identity:
            continue
        summary = plain_text(entry.get("summary") or entry.get("description") or "")
        entries.append(
            (
                _when(entry),
                -position,
                FeedEntry(
                    key=item_key(str(identity)),
                    title=title[:500],
                    link=link,
                    summary=summary[:SUMMARY_CHARS],
                    published=_when(entry),
                ),
            )
        )
    # Newest first: by date where the feed gives one, else in the feed's own order.
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    entries.sort(key=lambda t: (t[0] or epoch, t[1]), reverse=True)
    return [e for _, _, e in entries]


def fetch(
    http: httpx.Client,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    timeout: float,
    max_bytes: int,
    max_items: int,
) -> FeedResult:
    """GET a feed conditionally and parse it (see the module docstring)."""
    headers = {"Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    try:
        with http.stream(
            "GET",
            url,
            headers=headers,
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
        ) as response:
            if response.status_code == 304:
                return FeedResult(not_modified=True, etag=etag, last_modified=last_modified)
            if response.status_code != 200:
                raise FeedError(f"The feed answered HTTP {response.status_code}.")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FeedError(_too_big(max_bytes))
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FeedError(_too_big(max_bytes))
                if time.monotonic() > deadline:
                    raise FeedError(_too_slow(timeout))
                chunks.append(chunk)
            content_type = response.headers.get("content-type", "")
            new_etag = response.headers.get("etag")
            new_modified = response.headers.get("last-modified")
    except httpx.TimeoutException:
        raise FeedError(_too_slow(timeout)) from None
    except OutboundRefused as exc:
        raise FeedError(f"The feed was not fetched. {exc}") from None
    except httpx.HTTPError as exc:
        raise FeedError(f"The feed could not be fetched ({type(exc).__name__}).") from None
    entries = parse(b"".join(chunks), content_type, max_items=max_items)
    return FeedResult(
        not_modified=False,
        entries=entries,
        etag=(new_etag or "")[:500] or None,
        last_modified=(new_modified or "")[:100] or None,
    )


def _too_big(max_bytes: int) -> str:
    return (
        f"The feed is larger than {max_bytes} bytes (DIGIPERSONA_AUTOPILOT_FEED_MAX_BYTES); "
        "nothing was read from it."
    )


def _too_slow(timeout: float) -> str:
    return (
        f"The feed did not arrive within {timeout:g} s "
        "(DIGIPERSONA_AUTOPILOT_FEED_TIMEOUT_SECONDS)."
    )
