"""Request bodies and response parsing for LinkedIn's REST API (platform-apis 3.2-3.8)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The URN a DUPLICATE_POST 422 names in its message (platform-apis 3.8, 3.9).
_POST_URN = re.compile(r"urn:li:(?:share|ugcPost):\d+")


@dataclass(frozen=True)
class ImageRef:
    """An uploaded image URN with its alt text."""

    urn: str
    alt_text: str = ""


@dataclass(frozen=True)
class Article:
    """A link card: LinkedIn does not unfurl URLs in commentary (platform-apis 3.4)."""

    source: str
    title: str
    description: str | None = None


def post_body(
    *,
    author: str,
    commentary: str,
    images: Sequence[ImageRef] = (),
    article: Article | None = None,
) -> dict[str, Any]:
    """The ``POST /rest/posts`` body; ``commentary`` must already be little-text escaped."""
    body: dict[str, Any] = {
        "author": author,
        "commentary": commentary,
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }
    if len(images) == 1:
        media: dict[str, Any] = {"id": images[0].urn}
        if images[0].alt_text:
            media["altText"] = images[0].alt_text
        body["content"] = {"media": media}
    elif images:
        body["content"] = {
            "multiImage": {
                "images": [
                    {"id": image.urn, **({"altText": image.alt_text} if image.alt_text else {})}
                    for image in images
                ]
            }
        }
    elif article is not None:
        card: dict[str, Any] = {"source": article.source, "title": article.title}
        if article.description:
            card["description"] = article.description
        body["content"] = {"article": card}
    return body


def comment_body(*, actor: str, post_urn: str, text: str) -> dict[str, Any]:
    """The ``POST /rest/socialActions/{urn}/comments`` body; ``text`` is plain, not little text."""
    return {"actor": actor, "object": post_urn, "message": {"text": text}}


def duplicate_urn(body: Mapping[str, Any]) -> str | None:
    """The existing post URN a 422 ``DUPLICATE_POST`` answer names, if it is one."""
    details = body.get("errorDetails")
    codes: list[str] = []
    if isinstance(details, Mapping):
        for item in details.get("inputErrors") or []:
            if isinstance(item, Mapping):
                codes.append(str(item.get("code", "")))
    message = str(body.get("message", ""))
    if "DUPLICATE_POST" not in codes and "duplicate" not in message.lower():
        return None
    match = _POST_URN.search(message)
    return match.group(0) if match else None


def scopes_from(value: Any) -> tuple[str, ...]:
    """LinkedIn's token ``scope`` is comma-separated (platform-apis 3.2); tolerate spaces too."""
    if not isinstance(value, str):
        return ()
    return tuple(s for s in re.split(r"[,\s]+", value) if s)


def member_urn(sub: str) -> str:
    """The member URN posts are authored by: ``urn:li:person:{userinfo.sub}``."""
    return f"urn:li:person:{sub}"


def post_url(urn: str) -> str:
    """The public URL of a post (platform-apis 3.4)."""
    return f"https://www.linkedin.com/feed/update/{urn}/"
