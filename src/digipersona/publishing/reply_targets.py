"""Where a reply post must go: the platform's reply reference of the interaction it answers.

Part of publishing (not of interactions, which sits above it), so the engine imports nothing of
the inbox, content or generation code. The engine reads ``reply_target_column()`` in the same
query that prepares a batch, so threading a reply costs no extra round trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from digipersona.models import Interaction, Post
from digipersona.platforms.base import ReplyTarget


def reply_target_column() -> Any:
    """A correlated column (per ``Post``) with the stored reply target of the answered item."""
    return (
        select(Interaction.reply_target)
        .where(Interaction.reply_post_id == Post.id)
        .limit(1)
        .scalar_subquery()
        .label("reply_target")
    )


def to_reply_target(target: Mapping[str, Any] | None) -> ReplyTarget | None:
    """The ``ReplyTarget`` for a reply draft's stored target, or ``None`` for an ordinary post."""
    if not target:
        return None
    return ReplyTarget(
        parent_id=str(target["parent_id"]),
        root_id=str(target["root_id"]) if target.get("root_id") else None,
        extra=dict(target.get("extra") or {}),
    )
