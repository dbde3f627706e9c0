"""Drafting from an event (a feed item, a webhook payload, an engagement): plan and record."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from digipersona.ai import service as ai_service
from digipersona.autopilot import drafting
from digipersona.autopilot.planning import Rotation
from digipersona.autopilot.repository import QueueRepository
from digipersona.config import Settings
from digipersona.generation import PersonaProfile
from digipersona.models import AutopilotRun, Persona, RunStatus, Trigger
from digipersona.personas import service as personas


@dataclass
class EventDraft:
    """The read step of an event's run as plain data: what to ask the AI provider for."""

    trigger_id: uuid.UUID
    persona_id: uuid.UUID
    profile: PersonaProfile
    job: drafting.DraftJob
    structure_cursor: int
    details: dict[str, Any]


@dataclass(frozen=True)
class Event:
    """Something to comment on: a feed item, a webhook payload, an engagement."""

    title: str
    text: str
    url: str | None


def plan_events(
    session: Session,
    settings: Settings,
    trigger: Trigger,
    persona: Persona,
    events: Sequence[Event],
    extra: dict[str, Any] | None = None,
) -> list[EventDraft]:
    """Plan one draft per event, structures rotating from draft to draft; reads only."""
    last_structure, _last_topic = QueueRepository(session).last_structure(persona.id)
    rotation = Rotation(
        topics=(),
        topic_cursor=0,
        structure_cursor=trigger.structure_cursor,
        last_topic=None,
        last_structure=last_structure,
    )
    profile = personas.profile_of(persona)
    ai_config = ai_service.resolve(session, persona.workspace_id, settings, persona)
    planned = []
    for event in events:
        job = drafting.DraftJob(
            plans=[rotation.next()],
            platforms=list(trigger.platforms),
            destination=trigger.destination,
            brief=event.text.strip(),
            link_url=event.url,
            source_title=event.title.strip() or None,
            ai=ai_config,
        )
        planned.append(
            EventDraft(
                trigger_id=trigger.id,
                persona_id=persona.id,
                profile=profile,
                job=job,
                structure_cursor=rotation.structure_cursor,
                details={"title": event.title[:500], "url": event.url, **(extra or {})},
            )
        )
    return planned


def record_event(
    session: Session,
    settings: Settings,
    trigger: Trigger,
    persona: Persona,
    event: EventDraft,
    answer: drafting.Answer,
    *,
    source: str,
    now: datetime,
) -> AutopilotRun:
    """The write step of an event's run: save the draft (or the failure) and record the run."""
    outcome, error = drafting.save_drafts(session, settings, persona, event.job, answer, now=now)
    details = dict(event.details)
    if outcome is None:
        drafting.notify_failure(session, persona, source, error)
        return drafting.record_run(
            session,
            persona,
            source=source,
            status=RunStatus.failed,
            now=now,
            trigger=trigger,
            error=error,
            reason="Nothing was kept.",
            details=details,
        )
    trigger.structure_cursor = event.structure_cursor
    details["drafts"] = outcome.notes
    return drafting.record_run(
        session,
        persona,
        source=source,
        status=RunStatus.generated,
        now=now,
        trigger=trigger,
        posts_made=outcome.posts,
        details=details,
    )


def trigger_gone(
    session: Session,
    trigger: Trigger | None,
    persona: Persona,
    source: str,
    now: datetime,
    details: dict[str, Any],
) -> AutopilotRun:
    """The run of an event whose trigger was disabled or deleted while the provider answered."""
    return drafting.record_run(
        session,
        persona,
        source=source,
        status=RunStatus.nothing,
        now=now,
        trigger=trigger,
        reason="The trigger was disabled or deleted while the draft was being written; "
        "nothing was kept.",
        details=details,
    )
