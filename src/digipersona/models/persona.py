from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, IdMixin, TimestampMixin

DEFAULT_SLOTS = ["FREQ=WEEKLY;BYDAY=TU,TH;BYHOUR=6;BYMINUTE=30"]


class Persona(IdMixin, TimestampMixin, Base):
    __tablename__ = "personas"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    # "#rrggbb": marks the persona wherever it appears (calendar cells, lists, previews).
    colour: Mapped[str | None] = mapped_column(String(7), default=None)
    bio: Mapped[str] = mapped_column(Text, default="")
    voice: Mapped[str] = mapped_column(Text, default="")
    topics: Mapped[list[str]] = mapped_column(default=list)
    audience: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(35), default="en")
    hashtags: Mapped[list[str]] = mapped_column(default=list)
    banned_phrases: Mapped[list[str]] = mapped_column(default=list)
    # What the persona sells (consulting, workshops, saas, course; None: not said) and phrases
    # that never make a lead for it: both feed lead scoring (``interactions.leads``).
    offering: Mapped[str | None] = mapped_column(String(20), default=None)
    not_leads: Mapped[list[str]] = mapped_column(default=list)
    example_posts: Mapped[list[str]] = mapped_column(default=list)
    # Overrides the workspace's AI model for this persona's drafts (same provider).
    ai_model: Mapped[str | None] = mapped_column(String(200), default=None)
    approval_policy: Mapped[str] = mapped_column(String(32), default="require_approval")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    slots: Mapped[list[str]] = mapped_column(default=lambda: list(DEFAULT_SLOTS))
    blocked_domains: Mapped[list[str]] = mapped_column(default=list)
    jitter_minutes: Mapped[int] = mapped_column(default=0)
    max_lateness_minutes: Mapped[int] = mapped_column(default=360)
    reply_templates: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # An image without alt text blocks review (a problem) instead of a warning.
    require_alt_text: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)
