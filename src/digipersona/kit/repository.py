"""Repository base: all SQL lives in repositories (CONVENTIONS.md rule 2)."""

from __future__ import annotations

import uuid
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from digipersona.kit.pagination import check_page
from digipersona.models.base import Base

M = TypeVar("M", bound=Base)


class Repository(Generic[M]):
    model: type[M]

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, id_: uuid.UUID) -> M | None:
        return self.session.get(self.model, id_)

    def get_in_workspace(self, workspace_id: uuid.UUID, id_: uuid.UUID) -> M | None:
        """The object if it belongs to the workspace; other workspaces' objects do not exist."""
        stmt = select(self.model).where(
            self.model.id == id_,  # type: ignore[attr-defined]
            self.model.workspace_id == workspace_id,  # type: ignore[attr-defined]
        )
        return self.session.scalars(stmt).first()

    def add(self, obj: M) -> M:
        self.session.add(obj)
        self.session.flush()
        return obj

    def delete(self, obj: M) -> None:
        self.session.delete(obj)
        self.session.flush()

    def count(self, stmt: Select[Any]) -> int:
        return int(self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)

    def paginate(self, stmt: Select[Any], *, limit: int, offset: int) -> tuple[list[M], int]:
        """One page of ``stmt`` and the total count; a limit or offset out of bounds is a 422."""
        check_page(limit, offset)
        total = self.count(stmt)
        items = list(self.session.scalars(stmt.limit(limit).offset(offset)))
        return items, total
