"""The inbox: listing, reading and triaging interactions; reply drafts (see ``replies``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.exceptions import NotFound, ValidationFailed
from digipersona.interactions.repository import InteractionRepository, PollRepository
from digipersona.kit.repository import Page
from digipersona.models import Interaction
from digipersona.platforms.registry import get_provider_class


def get(session: Session, principal: Principal, interaction_id: uuid.UUID) -> Interaction:
    row = InteractionRepository(session).get_in_workspace(principal.workspace_id, interaction_id)
    if row is None:
        raise NotFound("No such interaction in this workspace.")
    return row


def list_interactions(
    session: Session,
    principal: Principal,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    **filters: Any,
) -> tuple[list[Interaction], int | None]:
    """One page of the workspace's inbox and its capped total (see ``page_interactions``)."""
    page = page_interactions(session, principal, since=since, until=until, **filters)
    return page.items, page.total


def page_interactions(
    session: Session,
    principal: Principal,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    **filters: Any,
) -> Page[Interaction]:
    """The workspace's inbox, newest first, after ``cursor``; total counted up to COUNT_CAP."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.utcoffset() is None:
            raise ValidationFailed(
                f"'{name}' has no UTC offset: write it like 2026-11-24T06:30:00Z.",
                errors=[{"field": name, "message": "add a UTC offset"}],
            )
    if since is not None and until is not None and since >= until:
        raise ValidationFailed(
            "'since' must be before 'until'.", errors=[{"field": "since", "message": "after until"}]
        )
    return InteractionRepository(session).search(
        principal.workspace_id, since=since, until=until, **filters
    )


def set_status(session: Session, principal: Principal, ids: list[uuid.UUID], status: str) -> int:
    """Mark many interactions at once; all must be in the workspace (else nothing changes)."""
    principal.require(Permission.drafts)
    wanted = list(dict.fromkeys(ids))
    repo = InteractionRepository(session)
    found = repo.in_workspace(principal.workspace_id, wanted)
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise NotFound(f"No such interaction in this workspace: {', '.join(missing[:5])}.")
    return repo.set_status(principal.workspace_id, wanted, status)


def sources(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """Each connection's read-back: supported or not (with the platform's own note), health."""
    out = []
    for connection, poll in PollRepository(session).for_workspace(principal.workspace_id):
        try:
            cls = get_provider_class(connection.platform)
            supported, note = cls.supports_interactions, cls.interactions_note
        except KeyError:
            supported, note = False, ""
        if not note and not supported:
            note = f"{connection.platform} offers no way to read mentions or comments."
        out.append(
            {
                "connection_id": connection.id,
                "persona_id": connection.persona_id,
                "platform": connection.platform,
                "handle": connection.handle,
                "supported": supported and not (poll and poll.unsupported_reason),
                "note": note,
                "unsupported_reason": poll.unsupported_reason if poll else None,
                "last_polled_at": poll.last_polled_at if poll else None,
                "next_poll_at": poll.next_poll_at if poll else None,
                "last_error": poll.last_error if poll else None,
            }
        )
    return out
