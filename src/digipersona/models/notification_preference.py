from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, IdMixin, TimestampMixin


class NotificationPreference(IdMixin, TimestampMixin, Base):
    """One member's notification choices in one workspace.

    ``choices`` maps event kind -> channel -> on/off and holds only what the member set; every
    other cell falls back to the role's default (notifications/preferences.py).
    """

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    choices: Mapped[dict[str, Any]] = mapped_column(default=dict)
