from __future__ import annotations

import uuid

from sqlalchemy import func, select

from digipersona.kit.repository import Repository
from digipersona.models import Persona


class PersonaRepository(Repository[Persona]):
    model = Persona

    def list(
        self, workspace_id: uuid.UUID, *, q: str | None, limit: int, offset: int
    ) -> tuple[list[Persona], int]:
        stmt = select(Persona).where(Persona.workspace_id == workspace_id)
        if q:
            stmt = stmt.where(func.lower(Persona.name).contains(q.lower()))
        return self.paginate(stmt.order_by(Persona.name, Persona.id), limit=limit, offset=offset)

    def get_by_name(self, workspace_id: uuid.UUID, name: str) -> Persona | None:
        stmt = select(Persona).where(
            Persona.workspace_id == workspace_id, func.lower(Persona.name) == name.lower()
        )
        return self.session.scalars(stmt).first()
