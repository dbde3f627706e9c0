"""Engagement triggers: a follow-up draft when another domain sees a post do well."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from digipersona import db
from digipersona.autopilot import drafting, events
from digipersona.autopilot.repository import TriggerRepository
from digipersona.config import Settings, get_settings
from digipersona.generation import GenerationProvider
from digipersona.kit.time import utcnow
from digipersona.models import AutopilotRun, Persona, Trigger, TriggerKind

logger = logging.getLogger("digipersona.autopilot")


def _engagement_trigger(session: Session, persona_id: uuid.UUID) -> Trigger | None:
    triggers = TriggerRepository(session).for_persona_any_workspace(
        persona_id, TriggerKind.engagement.value
    )
    return next((t for t in triggers if t.enabled), None)


def fire_engagement(
    factory: sessionmaker[Session],
    *,
    persona_id: uuid.UUID,
    reason: str,
    text: str,
    url: str | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
    provider: GenerationProvider | None = None,
) -> AutopilotRun | None:
    """A follow-up draft for an engagement event, if the persona opted in; None otherwise.

    Called by other domains (a high lead score in interactions, a post well above the persona's
    median engagement in analytics) after their own unit of work. ``reason`` says why (recorded
    with the run); ``text`` is what the follow-up should build on; ``url`` links the original.
    Reads, asks the AI provider with no transaction open, then writes in a ``write_scope``.
    """
    settings = settings or get_settings()
    now = now or utcnow()
    with db.session_scope(factory) as session:
        trigger = _engagement_trigger(session, persona_id)
        persona = session.get(Persona, persona_id)
        if trigger is None or persona is None:
            return None
        [event] = events.plan_events(
            session,
            settings,
            trigger,
            persona,
            [events.Event(reason, text, url)],
            extra={"reason": reason},
        )
    answer = drafting.ask(factory, settings, event.profile, event.job, provider)
    with db.write_scope(factory) as session:
        drafting.settle(session, [answer])
        trigger = session.get(Trigger, event.trigger_id)
        persona = session.get(Persona, persona_id)
        if persona is None:
            return None
        if trigger is None or not trigger.enabled:
            return events.trigger_gone(session, trigger, persona, "engagement", now, event.details)
        return events.record_event(
            session, settings, trigger, persona, event, answer, source="engagement", now=now
        )


def fire_engagement_safely(
    factory: sessionmaker[Session],
    *,
    persona_id: uuid.UUID,
    reason: str,
    text: str,
    url: str | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
    provider: GenerationProvider | None = None,
) -> AutopilotRun | None:
    """``fire_engagement`` for callers whose own work must go on whatever happens (polling,
    metrics sync): a failure is logged, never raised; its units of work roll back on their own.

    A provider failure is already recorded as a failed run; this also covers the unexpected (a
    database error, a bug), which leaves no trace but the log.
    """
    try:
        return fire_engagement(
            factory,
            persona_id=persona_id,
            reason=reason,
            text=text,
            url=url,
            settings=settings,
            now=now,
            provider=provider,
        )
    except Exception:
        logger.exception("the engagement trigger of persona %s failed (%s)", persona_id, reason)
        return None
