"""What rules and triggers share: each belongs to one persona of the workspace.

One way to list, find, change and delete them, so the two kinds answer the same 404s and
check the same permissions.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.exceptions import NotFound
from digipersona.models import GenerationRule, Trigger
from digipersona.personas import service as personas

Owned = TypeVar("Owned", GenerationRule, Trigger)


class PersonaObjects(Protocol[Owned]):
    """The repository of rules or of triggers."""

    def get_in_workspace(self, workspace_id: uuid.UUID, id_: uuid.UUID) -> Owned | None: ...

    def for_persona(self, workspace_id: uuid.UUID, persona_id: uuid.UUID) -> list[Owned]: ...

    def delete(self, obj: Owned) -> None: ...


def list_of(
    session: Session,
    principal: Principal,
    persona_id: uuid.UUID,
    repository: PersonaObjects[Owned],
) -> list[Owned]:
    """The persona's rules (or triggers); 404 for another workspace's persona."""
    persona = personas.get(session, principal, persona_id)
    return repository.for_persona(principal.workspace_id, persona.id)


def find(
    session: Session,
    principal: Principal,
    persona_id: uuid.UUID,
    repository: PersonaObjects[Owned],
    object_id: uuid.UUID,
    *,
    missing: str,
) -> Owned:
    """One rule (or trigger) of the persona; NotFound(``missing``) when it is not the persona's."""
    persona = personas.get(session, principal, persona_id)
    found = repository.get_in_workspace(principal.workspace_id, object_id)
    if found is None or found.persona_id != persona.id:
        raise NotFound(missing)
    return found


def apply(session: Session, obj: Owned, changes: dict[str, Any]) -> Owned:
    """Set the changed fields (already checked by the caller) and flush."""
    for key, value in changes.items():
        setattr(obj, key, value)
    session.flush()
    return obj


def remove(
    session: Session,
    principal: Principal,
    persona_id: uuid.UUID,
    repository: PersonaObjects[Owned],
    object_id: uuid.UUID,
    *,
    missing: str,
) -> None:
    """Delete one rule (or trigger) of the persona (needs the write permission)."""
    principal.require(Permission.write)
    repository.delete(find(session, principal, persona_id, repository, object_id, missing=missing))
