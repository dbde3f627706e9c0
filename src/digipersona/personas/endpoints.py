from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, status

from digipersona.auth.dependencies import Reader, Writer
from digipersona.db import SessionDep
from digipersona.kit.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, OffsetQuery
from digipersona.kit.schemas import Text
from digipersona.personas import schemas, service

router = APIRouter(prefix="/api/v1/personas", tags=["personas"])


@router.get("", response_model=schemas.PersonaList)
def list_personas(
    principal: Reader,
    session: SessionDep,
    q: Text | None = Query(default=None, max_length=100),
    limit: LimitQuery = DEFAULT_LIMIT,
    offset: OffsetQuery = 0,
    cursor: CursorQuery = None,
) -> schemas.PersonaList:
    """Personas of the workspace, by name; page with ``cursor`` (each page's ``next_cursor``)."""
    page = service.page_personas(session, principal, q=q, limit=limit, offset=offset, cursor=cursor)
    return schemas.PersonaList(
        items=[schemas.PersonaOut.model_validate(p) for p in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
        next_cursor=page.next_cursor,
        prev_cursor=page.prev_cursor,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.PersonaOut)
def create_persona(
    body: schemas.PersonaCreate, principal: Writer, session: SessionDep
) -> schemas.PersonaOut:
    """Create a persona."""
    return schemas.PersonaOut.model_validate(service.create(session, principal, body))


@router.get("/{persona_id}", response_model=schemas.PersonaOut)
def get_persona(
    persona_id: uuid.UUID, principal: Reader, session: SessionDep
) -> schemas.PersonaOut:
    """One persona."""
    return schemas.PersonaOut.model_validate(service.get(session, principal, persona_id))


@router.patch("/{persona_id}", response_model=schemas.PersonaOut)
def update_persona(
    persona_id: uuid.UUID, body: schemas.PersonaUpdate, principal: Writer, session: SessionDep
) -> schemas.PersonaOut:
    """Change some fields; pass ``version`` to refuse the edit if someone changed it meanwhile."""
    return schemas.PersonaOut.model_validate(service.update(session, principal, persona_id, body))


@router.delete("/{persona_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_persona(persona_id: uuid.UUID, principal: Writer, session: SessionDep) -> None:
    """Delete a persona and everything that belongs to it."""
    service.delete(session, principal, persona_id)
