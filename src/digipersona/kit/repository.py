"""Repository base: all SQL lives in repositories (CONVENTIONS.md rule 2)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, literal, literal_column, select, tuple_
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.types import TypeDecorator

from digipersona.kit.pagination import (
    COUNT_CAP,
    check_cursor_or_offset,
    check_page,
    decode_cursor,
    encode_cursor,
)
from digipersona.models.base import Base

M = TypeVar("M", bound=Base)
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its items, the capped total (None past the cap) and its neighbours."""

    items: list[T]
    total: int | None
    next_cursor: str | None
    prev_cursor: str | None = None


def _python_type(column: ColumnElement[Any]) -> type:
    # A TypeDecorator (UTCDateTime) says "object"; the type it decorates knows better.
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    return kind.python_type


def _counted(stmt: Select[Any]) -> Select[Any]:
    # The ORDER BY made the database sort every match only to count them; selecting a constant
    # lets it count from an index alone.
    return stmt.order_by(None).with_only_columns(literal_column("1"), maintain_column_froms=True)


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
        """How many rows ``stmt`` matches (its ORDER BY and columns are ignored)."""
        return int(
            self.session.scalar(select(func.count()).select_from(_counted(stmt).subquery())) or 0
        )

    def count_capped(self, stmt: Select[Any], cap: int = COUNT_CAP) -> int | None:
        """How many rows ``stmt`` matches if at most ``cap``, else None; reads at most cap + 1."""
        capped = _counted(stmt).limit(cap + 1).subquery()
        found = int(self.session.scalar(select(func.count()).select_from(capped)) or 0)
        return found if found <= cap else None

    def paginate(self, stmt: Select[Any], *, limit: int, offset: int) -> tuple[list[M], int]:
        """One page of ``stmt`` and the total count; a limit or offset out of bounds is a 422."""
        check_page(limit, offset)
        total = self.count(stmt)
        items = list(self.session.scalars(stmt.limit(limit).offset(offset)))
        return items, total

    def keyset(
        self,
        stmt: Select[Any],
        keys: Sequence[ColumnElement[Any] | QueryableAttribute[Any]],
        *,
        descending: bool,
        limit: int,
        cursor: str | None = None,
        offset: int = 0,
        with_total: bool = True,
    ) -> Page[M]:
        """One page of ``stmt`` in ``keys`` order (the last key unique), from ``cursor``.

        ``keys`` must match an index whose leading columns are the equality filters of
        ``stmt``, so a page is read in index order and stops after ``limit`` rows; a cursor
        carries the key of the row it follows (or precedes). ``offset`` still works for old
        clients but costs the skipped rows. A limit, offset or cursor out of bounds is a 422.
        """
        check_page(limit, offset)
        check_cursor_or_offset(cursor, offset)
        columns = [k.expression if isinstance(k, QueryableAttribute) else k for k in keys]
        total = self.count_capped(stmt) if with_total else None
        backwards, after = False, None
        if cursor is not None:
            backwards, after = decode_cursor(cursor, [_python_type(k) for k in columns])
        # Reading backwards walks the same index the other way, then restores the order.
        desc = descending != backwards
        page = stmt.order_by(None).add_columns(*columns)
        if after is not None:
            bound = tuple_(*(literal(v, k.type) for k, v in zip(columns, after, strict=True)))
            position = tuple_(*columns)
            page = page.where(position < bound if desc else position > bound)
        page = page.order_by(*[k.desc() if desc else k.asc() for k in columns])
        rows = list(self.session.execute(page.limit(limit + 1).offset(offset)).all())
        more = len(rows) > limit
        rows = rows[:limit]
        if backwards:
            if not more:
                # Fewer than a page before the cursor: that is the first page, shown whole.
                return self.keyset(
                    stmt, keys, descending=descending, limit=limit, with_total=with_total
                )
            rows.reverse()
        items = [row[0] for row in rows]
        first_key, last_key = (tuple(rows[0][1:]), tuple(rows[-1][1:])) if rows else ((), ())
        has_next = backwards or more
        has_prev = more if backwards else (after is not None or offset > 0)
        return Page(
            items,
            total,
            encode_cursor(last_key) if has_next and rows else None,
            encode_cursor(first_key, before=True) if has_prev and rows else None,
        )
