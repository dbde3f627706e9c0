"""Where a reply post must go: the platform's reply reference of the interaction it answers.

Kept apart from ``replies`` so the publishing engine can import it without the content and
generation layers.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from digipersona.interactions.repository import InteractionRepository
from digipersona.platforms.base import ReplyTarget


def reply_target_for(session: Session, post_id: uuid.UUID) -> ReplyTarget | None:
    """The ``ReplyTarget`` for a reply draft's post, or ``None`` for an ordinary post."""
    interaction = InteractionRepository(session).for_reply_post(post_id)
    if interaction is None or not interaction.reply_target:
        return None
    target = interaction.reply_target
    return ReplyTarget(
        parent_id=str(target["parent_id"]),
        root_id=str(target["root_id"]) if target.get("root_id") else None,
        extra=dict(target.get("extra") or {}),
    )
