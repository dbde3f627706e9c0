"""Where a reply post must go: the platform's reply reference of the interaction it answers.

Part of publishing (not of interactions, which sits above it), so the engine imports nothing of
the inbox, content or generation code. The engine reads the stored target in the same query that
prepares a batch (``repository.prepare_statement``), so threading a reply costs no extra round
trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from digipersona.platforms.base import ReplyTarget


def to_reply_target(target: Mapping[str, Any] | None) -> ReplyTarget | None:
    """The ``ReplyTarget`` for a reply draft's stored target, or ``None`` for an ordinary post."""
    if not target:
        return None
    return ReplyTarget(
        parent_id=str(target["parent_id"]),
        root_id=str(target["root_id"]) if target.get("root_id") else None,
        extra=dict(target.get("extra") or {}),
    )
