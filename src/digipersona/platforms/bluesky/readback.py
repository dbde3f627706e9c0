"""Reading back from Bluesky: notifications as inbound interactions, postViews as metrics.

Both go to the account's PDS with the session token; the PDS proxies ``app.bsky.*`` reads to
its configured AppView (platform-apis 2.1), as the official clients do.

**The notifications cursor.** ``listNotifications`` pages newest first, ordered by the
notification's ``indexedAt``, which the AppView sets to the *earlier* of the post's
``createdAt`` and the time it indexed it. A post whose author's clock runs behind therefore
appears *below* notifications we have already seen. So the cursor we hand back is not the API's
page cursor but ``{"t": newest indexedAt seen, "seen": [uris seen within OVERLAP of t]}``: the
next poll pages back until it passes ``t - OVERLAP`` and keeps only uris it has not seen. A post
back-dated by more than OVERLAP is not reported (no client shows it as new either).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from digipersona.kit.time import ensure_utc
from digipersona.platforms.base import (
    InboundInteraction,
    InteractionKind,
    MetricsReading,
    ReplyTarget,
)
from digipersona.platforms.bluesky.schemas import AtUri, post_url

REASONS: tuple[str, ...] = ("reply", "quote", "mention")
_KINDS: dict[str, InteractionKind] = {"reply": "reply", "quote": "quote", "mention": "mention"}
# One post can notify us for several reasons (a reply that also mentions us): keep the first.
_PRIORITY = {"reply": 0, "quote": 1, "mention": 2}
OVERLAP = timedelta(minutes=15)
MAX_SEEN = 300
QUOTE_EMBEDS = ("app.bsky.embed.record", "app.bsky.embed.recordWithMedia")


def parse_time(value: Any) -> datetime | None:
    """An atproto datetime (RFC 3339, ``Z`` or offset) as aware UTC, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return ensure_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


@dataclass(frozen=True)
class NotificationCursor:
    """Where the previous poll stopped: the newest ``indexedAt`` and the uris seen near it."""

    newest: datetime
    seen: frozenset[str]

    @classmethod
    def decode(cls, value: str | None) -> NotificationCursor | None:
        """None for the first poll (or a cursor we cannot read: the store is idempotent)."""
        if not value:
            return None
        try:
            body = json.loads(value)
        except ValueError:
            return None
        newest = parse_time(body.get("t")) if isinstance(body, Mapping) else None
        if newest is None:
            return None
        seen = body.get("seen")
        uris = frozenset(str(uri) for uri in seen) if isinstance(seen, list) else frozenset()
        return cls(newest, uris)

    def encode(self) -> str:
        stamp = self.newest.isoformat(timespec="microseconds").replace("+00:00", "Z")
        return json.dumps({"t": stamp, "seen": sorted(self.seen)}, separators=(",", ":"))

    def horizon(self) -> datetime:
        """Notifications indexed before this are taken as seen."""
        return self.newest - OVERLAP

    def is_seen(self, uri: str, indexed_at: datetime) -> bool:
        return indexed_at < self.horizon() or uri in self.seen


def next_cursor(
    previous: NotificationCursor | None, fresh: Sequence[tuple[str, datetime]]
) -> NotificationCursor | None:
    """The cursor after a poll that found ``fresh`` (uri, indexedAt) pairs."""
    if not fresh and previous is None:
        return None
    stamps = [at for _, at in fresh]
    newest = max([*stamps, previous.newest] if previous else stamps)
    horizon = newest - OVERLAP
    recent = {uri: at for uri, at in fresh if at >= horizon}
    if previous is not None:
        for uri in previous.seen:
            recent.setdefault(uri, previous.newest)  # their exact time is not kept: assume t
        recent = {uri: at for uri, at in recent.items() if at >= horizon}
    # Keep the newest uris when there are very many (older ones fall back to the time rule).
    kept = sorted(recent, key=lambda uri: recent[uri], reverse=True)[:MAX_SEEN]
    return NotificationCursor(newest, frozenset(kept))


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _ref(value: Any) -> tuple[str, str] | None:
    if isinstance(value, Mapping) and _str(value.get("uri")) and _str(value.get("cid")):
        return str(value["uri"]), str(value["cid"])
    return None


def _quoted_uri(record: Mapping[str, Any]) -> str | None:
    embed = record.get("embed")
    if not isinstance(embed, Mapping) or embed.get("$type") not in QUOTE_EMBEDS:
        return None
    inner = embed.get("record")
    if embed.get("$type") == "app.bsky.embed.recordWithMedia" and isinstance(inner, Mapping):
        inner = inner.get("record")  # recordWithMedia nests an embed.record
    ref = _ref(inner)
    return ref[0] if ref else None


def to_interaction(notification: Mapping[str, Any], our_did: str) -> InboundInteraction | None:
    """One ``listNotifications`` item as an interaction; None for one we cannot use."""
    reason = _str(notification.get("reason"))
    kind = _KINDS.get(reason)
    uri, cid = _str(notification.get("uri")), _str(notification.get("cid"))
    if kind is None or not uri.startswith("at://"):
        return None
    try:
        at_uri = AtUri.parse(uri)
    except ValueError:
        return None
    raw_record = notification.get("record")
    record: Mapping[str, Any] = raw_record if isinstance(raw_record, Mapping) else {}
    raw_author = notification.get("author")
    author: Mapping[str, Any] = raw_author if isinstance(raw_author, Mapping) else {}
    author_did = _str(author.get("did")) or at_uri.repo
    # A deleted or deactivated account has no usable handle ("handle.invalid"): show the DID.
    handle = _str(author.get("handle"))
    if not handle or handle == "handle.invalid":
        handle = author_did
    created_at = (
        parse_time(record.get("createdAt"))
        or parse_time(notification.get("indexedAt"))
        or datetime.fromtimestamp(0, UTC)
    )

    reply = record.get("reply") if isinstance(record.get("reply"), Mapping) else None
    parent = _ref(reply.get("parent")) if reply else None
    root = _ref(reply.get("root")) if reply else None
    subject = _str(notification.get("reasonSubject")) or None
    if subject is None:
        candidate = parent[0] if kind == "reply" and parent else None
        if kind == "quote":
            candidate = _quoted_uri(record)
        if candidate and candidate.startswith(f"at://{our_did}/"):
            subject = candidate

    target: ReplyTarget | None = None
    if cid:
        # Answering this post: it is the parent; the root stays the conversation's root.
        root_uri, root_cid = root if root else (uri, cid)
        target = ReplyTarget(
            parent_id=uri,
            root_id=root_uri,
            extra={"cid": cid, "parent_cid": cid, "root_cid": root_cid},
        )
    extra: dict[str, Any] = {"cid": cid, "reason": reason, "author_did": author_did}
    if not record:
        extra["record_missing"] = True
    return InboundInteraction(
        external_id=uri,
        kind=kind,
        text=_str(record.get("text")),
        created_at=created_at,
        author_id=author_did,
        author_handle=handle,
        author_name=_str(author.get("displayName")),
        author_bio=_str(author.get("description")),
        url=post_url(handle, at_uri.rkey),
        subject_external_id=subject,
        reply_target=target,
        extra=extra,
    )


def dedupe(items: Sequence[InboundInteraction]) -> list[InboundInteraction]:
    """One interaction per post (reply over quote over mention), in the given order."""
    best: dict[str, InboundInteraction] = {}
    for item in items:
        current = best.get(item.external_id)
        if current is None or _PRIORITY[item.kind] < _PRIORITY[current.kind]:
            best[item.external_id] = item
    return [best[uri] for uri in dict.fromkeys(item.external_id for item in items)]


def _count(view: Mapping[str, Any], key: str) -> int | None:
    value = view.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def to_metrics(external_id: str, view: Mapping[str, Any]) -> MetricsReading:
    """A ``postView``'s counts (Bluesky has no impressions)."""
    return MetricsReading(
        external_id=external_id,
        likes=_count(view, "likeCount"),
        reposts=_count(view, "repostCount"),
        replies=_count(view, "replyCount"),
        quotes=_count(view, "quoteCount"),
    )
