"""Personas: who speaks, how, to whom, when."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from digipersona.audit import service as audit
from digipersona.auth.principal import Principal
from digipersona.exceptions import Conflict, NotFound
from digipersona.generation.base import PersonaProfile
from digipersona.kit.repository import Page
from digipersona.models import Persona
from digipersona.personas.repository import PersonaRepository
from digipersona.personas.schemas import PersonaCreate, PersonaUpdate

# Fields that an explicit null (or a blank) clears; for the others null means "unchanged".
CLEARABLE = frozenset({"colour"})


def get(session: Session, principal: Principal, persona_id: uuid.UUID) -> Persona:
    """A persona of the principal's workspace, or 404."""
    persona = PersonaRepository(session).get_in_workspace(principal.workspace_id, persona_id)
    if persona is None:
        raise NotFound("No such persona in this workspace.")
    return persona


def get_by_name_or_id(session: Session, workspace_id: uuid.UUID, ref: str) -> Persona:
    """Look a persona up by id or (case-insensitive) name, for the CLI."""
    repo = PersonaRepository(session)
    persona = None
    try:
        persona = repo.get_in_workspace(workspace_id, uuid.UUID(ref))
    except ValueError:
        persona = repo.get_by_name(workspace_id, ref)
    if persona is None:
        raise NotFound(f"No persona named {ref!r} in this workspace.")
    return persona


def list_personas(
    session: Session,
    principal: Principal,
    *,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Persona], int | None]:
    """One page of personas by name and the capped total (see ``page_personas``)."""
    page = page_personas(session, principal, q=q, limit=limit, offset=offset)
    return page.items, page.total


def page_personas(
    session: Session,
    principal: Principal,
    *,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
    cursor: str | None = None,
) -> Page[Persona]:
    """Personas by name, after ``cursor``; a total counted up to COUNT_CAP, None beyond."""
    return PersonaRepository(session).list(
        principal.workspace_id, q=q, limit=limit, offset=offset, cursor=cursor
    )


def _name_taken(
    session: Session, workspace_id: uuid.UUID, name: str, exclude: uuid.UUID | None
) -> bool:
    existing = PersonaRepository(session).get_by_name(workspace_id, name)
    return existing is not None and existing.id != exclude


def _name_conflict(name: str) -> Conflict:
    return Conflict(f"A persona named {name!r} already exists in this workspace.")


def create(session: Session, principal: Principal, data: PersonaCreate) -> Persona:
    if _name_taken(session, principal.workspace_id, data.name, None):
        raise _name_conflict(data.name)
    try:
        # The unique index still decides between two requests that checked at the same time.
        with session.begin_nested():
            persona = PersonaRepository(session).add(
                Persona(workspace_id=principal.workspace_id, **data.model_dump())
            )
    except IntegrityError as exc:
        raise _name_conflict(data.name) from exc
    audit.record(
        session,
        workspace_id=principal.workspace_id,
        action="persona.created",
        object_type="persona",
        object_id=persona.id,
        actor_user_id=principal.user_id,
        actor_token_id=principal.token_id,
    )
    return persona


def update(
    session: Session, principal: Principal, persona_id: uuid.UUID, data: PersonaUpdate
) -> Persona:
    persona = get(session, principal, persona_id)
    changes = data.model_dump(exclude_unset=True)
    expected_version = changes.pop("version", None)
    if expected_version is not None and expected_version != persona.version:
        raise Conflict(
            f"This persona changed since you loaded it (version {persona.version}, you had "
            f"{expected_version}). Reload and apply your edit again.",
            extra={"current_version": persona.version},
        )
    if changes.get("name") and _name_taken(
        session, principal.workspace_id, changes["name"], persona.id
    ):
        raise _name_conflict(changes["name"])
    try:
        with session.begin_nested():
            for key, value in changes.items():
                if value is None and key not in CLEARABLE:
                    continue
                setattr(persona, key, value)
            persona.version += 1
            session.flush()
    except IntegrityError as exc:
        if not changes.get("name"):
            raise
        raise _name_conflict(changes["name"]) from exc
    audit.record(
        session,
        workspace_id=principal.workspace_id,
        action="persona.updated",
        object_type="persona",
        object_id=persona.id,
        actor_user_id=principal.user_id,
        actor_token_id=principal.token_id,
        data={"fields": sorted(k for k, v in changes.items() if v is not None)},
    )
    return persona


def delete(session: Session, principal: Principal, persona_id: uuid.UUID) -> None:
    persona = get(session, principal, persona_id)
    PersonaRepository(session).delete(persona)
    audit.record(
        session,
        workspace_id=principal.workspace_id,
        action="persona.deleted",
        object_type="persona",
        object_id=persona_id,
        actor_user_id=principal.user_id,
        actor_token_id=principal.token_id,
        data={"name": persona.name},
    )


def profile_of(persona: Persona) -> PersonaProfile:
    """The persona as the generation layer sees it (voice, audience, examples, language)."""
    return PersonaProfile(
        name=persona.name,
        bio=persona.bio,
        voice=persona.voice,
        topics=tuple(persona.topics),
        audience=persona.audience,
        language=persona.language,
        hashtags=tuple(persona.hashtags),
        banned_phrases=tuple(persona.banned_phrases),
        example_posts=tuple(persona.example_posts),
        blocked_domains=tuple(persona.blocked_domains),
    )
