"""A fake RSS 2.0 / Atom 1.0 publisher on loopback, with the misbehaviours feeds really have.

Serves ``GET /feed.xml`` (RSS 2.0) and ``GET /atom.xml`` (Atom 1.0) from ``items`` (newest
first), with a strong ``ETag`` over the body and a ``Last-Modified``; a request whose
``If-None-Match`` matches (or, without one, whose ``If-Modified-Since`` is not older) gets
``304 Not Modified`` with no body (RFC 9110 13.1.2, 15.4.5). Knobs: ``malformed`` (serve broken
XML), ``huge_bytes`` (pad the body to that size), ``delay`` (seconds to wait before answering),
``status`` (answer with that status), ``chunked`` (omit ``Content-Length``). Every request is kept in ``requests``.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from xml.sax.saxutils import escape

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
LAST_MODIFIED = formatdate(1_790_000_000, usegmt=True)


@dataclass
class Item:
    guid: str
    title: str
    link: str
    summary: str = ""
    published: str = "Mon, 19 Oct 2026 06:00:00 GMT"


@dataclass
class FakeFeed:
    items: list[Item] = field(default_factory=list)
    malformed: bool = False
    huge_bytes: int = 0
    delay: float = 0.0
    status: int = 200
    chunked: bool = False  # no Content-Length: the size is only known while reading
    requests: list[dict[str, str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def add(self, n: int, prefix: str = "item") -> list[Item]:
        """Publish ``n`` new items (they go to the top, newest first)."""
        start = len(self.items)
        new = [
            Item(
                guid=f"urn:{prefix}:{start + i}",
                title=f"Release {start + i}: faster builds",
                link=f"https://blog.example/{prefix}/{start + i}",
                summary=f"<p>We cut build times by {10 + i}% with <b>remote caching</b>.</p>",
            )
            for i in range(n)
        ]
        self.items[:0] = list(reversed(new))
        return new

    def shutdown(self) -> None:
        self._stop.set()

    def rss(self) -> bytes:
        entries = "".join(
            f"<item><guid>{escape(i.guid)}</guid><title>{escape(i.title)}</title>"
            f"<link>{escape(i.link)}</link><description>{escape(i.summary)}</description>"
            f"<pubDate>{i.published}</pubDate></item>"
            for i in self.items
        )
        padding = ""
        body = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            "<title>Build blog</title><link>https://blog.example/</link>"
            f"<description>Notes</description>{entries}{{pad}}</channel></rss>"
        )
        if self.huge_bytes:
            padding = "<!--" + "x" * self.huge_bytes + "-->"
        if self.malformed:
            body = body.replace("</channel>", "<item><title>unclosed</channel>")
        return body.replace("{pad}", padding).encode("utf-8")

    def atom(self) -> bytes:
        entries = "".join(
            f"<entry><id>{escape(i.guid)}</id><title>{escape(i.title)}</title>"
            f'<link href="{escape(i.link)}"/><summary>{escape(i.summary)}</summary>'
            "<updated>2026-10-19T06:00:00Z</updated></entry>"
            for i in self.items
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            "<title>Build blog</title><id>urn:blog</id><updated>2026-10-19T06:00:00Z</updated>"
            f"{entries}</feed>"
        ).encode()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        self.requests.append(
            {
                "path": path,
                "if-none-match": environ.get("HTTP_IF_NONE_MATCH", ""),
                "if-modified-since": environ.get("HTTP_IF_MODIFIED_SINCE", ""),
            }
        )
        if self.delay:
            self._stop.wait(self.delay)
        if self.status != 200:
            start_response(f"{self.status} Error", [("Content-Type", "text/plain")])
            return [b"error"]
        if path == "/feed.xml":
            body, ctype = self.rss(), "application/rss+xml; charset=utf-8"
        elif path == "/atom.xml":
            body, ctype = self.atom(), "application/atom+xml; charset=utf-8"
        else:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        inm = environ.get("HTTP_IF_NONE_MATCH")
        ims = environ.get("HTTP_IF_MODIFIED_SINCE")
        if (inm and inm == etag) or (not inm and ims == LAST_MODIFIED):
            start_response("304 Not Modified", [("ETag", etag)])
            return [b""]
        headers = [("Content-Type", ctype), ("ETag", etag), ("Last-Modified", LAST_MODIFIED)]
        if not self.chunked:
            headers.append(("Content-Length", str(len(body))))
        start_response("200 OK", headers)
        return [body[i : i + 65536] for i in range(0, len(body), 65536)]
