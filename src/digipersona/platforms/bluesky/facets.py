"""Rich-text facets for a post: links, mentions and hashtags with UTF-8 byte offsets.

Bluesky links nothing by itself: a URL or @handle without a facet is plain text, and facet
offsets count UTF-8 bytes, not characters (platform-apis 2.3; checklist item 7). Detection uses
the ``atproto`` SDK's port of the official detector (``packages/api/src/rich-text/detection.ts``:
trailing punctuation, bare domains with known TLDs, ``#tags`` up to 64 graphemes, ``$CASHTAGS``);
mentions are resolved to DIDs by the caller and skipped when the handle does not resolve.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from atproto_client import models
from atproto_client.utils import detect_facets, detect_mentions

LINK = "app.bsky.richtext.facet#link"
MENTION = "app.bsky.richtext.facet#mention"
TAG = "app.bsky.richtext.facet#tag"

Facet = dict[str, Any]


def build_facets(text: str, resolve_handle: Callable[[str], str | None]) -> list[Facet]:
    """Facets for ``text``, sorted and never overlapping; ``resolve_handle`` maps handle -> DID."""
    candidates: list[tuple[int, int, dict[str, Any]]] = []
    for mention in detect_mentions(text):
        did = resolve_handle(mention.handle)
        if did:
            candidates.append(
                (mention.byte_start, mention.byte_end, {"$type": MENTION, "did": did})
            )
    for facet in detect_facets(text):
        feature = facet.features[0]
        if isinstance(feature, models.AppBskyRichtextFacet.Link):
            encoded: dict[str, Any] = {"$type": LINK, "uri": feature.uri}
        elif isinstance(feature, models.AppBskyRichtextFacet.Tag):
            encoded = {"$type": TAG, "tag": feature.tag}
        else:  # a feature kind this module does not know: leave the text plain
            continue
        candidates.append((facet.index.byte_start, facet.index.byte_end, encoded))

    # Facets must not overlap (lexicon app.bsky.richtext.facet); the earliest one wins.
    facets: list[Facet] = []
    last_end = -1
    for start, end, feature_json in sorted(candidates, key=lambda c: (c[0], -c[1])):
        if start < last_end or end <= start:
            continue
        facets.append({"index": {"byteStart": start, "byteEnd": end}, "features": [feature_json]})
        last_end = end
    return facets
