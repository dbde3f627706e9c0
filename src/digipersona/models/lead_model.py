from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from digipersona.models.base import Base, TimestampMixin


class WorkspaceLeadModel(TimestampMixin, Base):
    """A workspace's own lead model, refitted on the shipped corpus plus its inbox labels.

    ``model`` holds ``interactions.lead_model.LeadModel.to_bytes()`` (a numpy ``.npz``, no
    pickles); ``metrics`` the measured precision/recall the Analytics page shows. Without a row
    the shipped model scores the workspace's interactions.
    """

    __tablename__ = "lead_models"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[bytes] = mapped_column(LargeBinary)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    label_count: Mapped[int] = mapped_column(default=0)
    trained_at: Mapped[datetime] = mapped_column()
