"""SQL for a workspace's AI settings and usage."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digipersona.models import AISettings, AIUsage, Persona


class AIRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def settings_of(self, workspace_id: uuid.UUID) -> AISettings | None:
        return self.session.get(AISettings, workspace_id)

    def add(self, row: AISettings | AIUsage) -> None:
        self.session.add(row)
        self.session.flush()

    def delete(self, row: AISettings) -> None:
        self.session.delete(row)
        self.session.flush()

    def month_cost(self, workspace_id: uuid.UUID, month: str) -> float:
        stmt = select(func.coalesce(func.sum(AIUsage.cost_usd), 0)).where(
            AIUsage.workspace_id == workspace_id, AIUsage.month == month
        )
        return float(self.session.execute(stmt).scalar_one() or 0)

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
