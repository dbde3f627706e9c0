"""SQL for a workspace's AI settings and usage."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from digipersona.models import AIReservation, AISettings, AIUsage, Persona


class AIRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def settings_of(self, workspace_id: uuid.UUID) -> AISettings | None:
        return self.session.get(AISettings, workspace_id)

    def add(self, row: AISettings | AIUsage | AIReservation) -> None:
        self.session.add(row)
        self.session.flush()

    def delete(self, row: AISettings) -> None:
        self.session.delete(row)
        self.session.flush()

    def lock_settings(self, workspace_id: uuid.UUID) -> AISettings | None:
        """The settings row, locked until the unit of work ends (PostgreSQL ``FOR UPDATE``;
        SQLite's write scope already holds the database's one write lock)."""
        stmt = (
            select(AISettings)
            .where(AISettings.workspace_id == workspace_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return self.session.scalars(stmt).first()

    def month_cost(
        self, workspace_id: uuid.UUID, month: str, *, now: datetime | None = None
    ) -> float:
        """This month's recorded cost; with ``now``, plus the holds of calls still under way."""
        stmt = select(func.coalesce(func.sum(AIUsage.cost_usd), 0)).where(
            AIUsage.workspace_id == workspace_id, AIUsage.month == month
        )
        spent = float(self.session.execute(stmt).scalar_one() or 0)
        if now is None:
            return spent
        held = select(func.coalesce(func.sum(AIReservation.cost_usd), 0)).where(
            AIReservation.workspace_id == workspace_id,
            AIReservation.month == month,
            AIReservation.expires_at > now,
        )
        return spent + float(self.session.execute(held).scalar_one() or 0)

    def drop_reservation(self, reservation_id: uuid.UUID) -> None:
        self.session.execute(delete(AIReservation).where(AIReservation.id == reservation_id))

    def drop_expired_reservations(self, now: datetime) -> int:
        result = self.session.execute(delete(AIReservation).where(AIReservation.expires_at <= now))
        return int(getattr(result, "rowcount", 0) or 0)

    def usage_rows(self, workspace_id: uuid.UUID, month: str) -> list[Any]:
        """Calls, tokens and cost of one month per persona and model."""
        stmt = (
            select(
                AIUsage.persona_id,
                Persona.name,
                AIUsage.model,
                func.count(),
                func.sum(AIUsage.tokens_in),
                func.sum(AIUsage.tokens_out),
                func.sum(AIUsage.cost_usd),
            )
            .outerjoin(Persona, Persona.id == AIUsage.persona_id)
            .where(AIUsage.workspace_id == workspace_id, AIUsage.month == month)
            .group_by(AIUsage.persona_id, Persona.name, AIUsage.model)
            .order_by(Persona.name, AIUsage.model)
        )
        return list(self.session.execute(stmt).all())
