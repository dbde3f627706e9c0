from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Sequence

from sqlalchemy import func, select

from digipersona.kit.repository import Page, Repository
from digipersona.models import Persona


def name_key(name: str) -> str:
    """What two persona names must differ in: more than case or Unicode normal form."""
    return unicodedata.normalize("NFKC", name).casefold()


class PersonaRepository(Repository[Persona]):
    model = Persona

    def list(
        self,
        workspace_id: uuid.UUID,
        *,
        q: str | None,
        limit: int,
        offset: int = 0,
        cursor: str | None = None,
    ) -> Page[Persona]:
        """The workspace's personas by name (the unique (workspace_id, name) index's order)."""
        stmt = select(Persona).where(Persona.workspace_id == workspace_id)
        if q:
            stmt = stmt.where(func.lower(Persona.name).contains(q.lower()))
        return self.keyset(
            stmt,
            [Persona.name, Persona.id],
            descending=False,
            limit=limit,
            cursor=cursor,
            offset=offset,
        )

    def all_in_workspace(self, workspace_id: uuid.UUID) -> Sequence[Persona]:
        """Every persona of the workspace (a workspace holds few), by name."""
        return list(
            self.session.scalars(
                select(Persona).where(Persona.workspace_id == workspace_id).order_by(Persona.name)
            )
        )

    def get_by_name(self, workspace_id: uuid.UUID, name: str) -> Persona | None:
        """The persona whose name matches ignoring case and Unicode form ("Émile" = "ÉMILE").

        Compared in Python: SQLite's lower() folds ASCII letters only, so a SQL comparison
        missed "émile" = "Émile" there (and PostgreSQL's depends on the database's locale).
        A workspace holds few personas, so this reads only their ids and names.
        """
        key = name_key(name)
        rows = self.session.execute(
            select(Persona.id, Persona.name).where(Persona.workspace_id == workspace_id)
        )
        for persona_id, other in rows:
            if name_key(other) == key:
                return self.session.get(Persona, persona_id)
        return None
