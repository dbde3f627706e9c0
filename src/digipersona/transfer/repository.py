"""The generic reads and writes of a whole-workspace export and import (Core, in pages)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, and_, func, insert, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from digipersona.exceptions import ValidationFailed
from digipersona.models import Base, Persona, Post


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    python_type: type | None
    nullable: bool
    # The table a foreign key points at ("posts", "users", ...), None without one.
    target: str | None


def table_of(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def columns(model: type[Base]) -> list[ColumnInfo]:
    """Each column of the model's table with its Python type and foreign key's table."""
    out = []
    for column in table_of(model).columns:
        python_type: type | None = None
        # A TypeDecorator (UTC datetimes, UUIDs) answers for its underlying type.
        for kind in (getattr(column.type, "impl", None), column.type):
            try:
                python_type = kind.python_type if kind is not None else None
            except NotImplementedError:
                continue
            if python_type not in (None, object):
                break
        keys = list(column.foreign_keys)
        out.append(
            ColumnInfo(
                column.name,
                python_type,
                bool(column.nullable),
                keys[0].column.table.name if keys else None,
            )
        )
    return out


def _order(table: Table) -> tuple[Column[Any], Column[Any]]:
    for name in ("created_at", "taken_at", "received_at"):
        if name in table.columns:
            return table.columns[name], table.columns["id"]
    return table.columns["id"], table.columns["id"]


def rows_in_pages(
    session: Session, model: type[Base], workspace_id: uuid.UUID, *, page: int
) -> Iterator[dict[str, Any]]:
    """The workspace's rows of ``model`` as plain mappings, oldest first, ``page`` at a time
    (keyset on the creation time and id: memory stays one page whatever the table's size)."""
    table = table_of(model)
    first, second = _order(table)
    last: tuple[Any, Any] | None = None
    while True:
        stmt = select(table).where(table.c.workspace_id == workspace_id)
        if last is not None:
            if first is second:
                stmt = stmt.where(first > last[0])
            else:
                stmt = stmt.where(or_(first > last[0], and_(first == last[0], second > last[1])))
        stmt = stmt.order_by(first, second).limit(page)
        batch = [dict(row) for row in session.execute(stmt).mappings()]
        yield from batch
        if len(batch) < page:
            return
        last = (batch[-1][first.name], batch[-1][second.name])


def insert_rows(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    """Insert the rows (one executemany); a row the database refuses is a clear 4xx."""
    if not rows:
        return
    try:
        session.execute(insert(table_of(model)), list(rows))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0][:300]
        raise ValidationFailed(
            f"The {table_of(model).name} of the file cannot be stored: {reason}"
        ) from None


def is_empty(session: Session, workspace_id: uuid.UUID) -> bool:
    """Whether the workspace has no persona and no post yet."""
    for model in (Persona, Post):
        table = table_of(model)
        count = session.execute(
            select(func.count()).select_from(table).where(table.c.workspace_id == workspace_id)
        ).scalar_one()
        if count:
            return False
    return True
