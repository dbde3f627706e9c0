"""The autopilot in plain words: what a rule does next, each persona's status, recent runs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from digipersona.auth.principal import Principal
from digipersona.autopilot import rules
from digipersona.autopilot.repository import RuleRepository, RunRepository, TriggerRepository
from digipersona.exceptions import DigipersonaError
from digipersona.kit.repository import Page
from digipersona.kit.time import ensure_utc, utcnow
from digipersona.models import AutopilotRun, Destination, GenerationRule, Persona, RuleMode, Trigger
from digipersona.personas import service as personas
from digipersona.scheduling.describe import describe_rule, describe_slot_instant


def list_runs(
    session: Session,
    principal: Principal,
    persona_id: uuid.UUID,
    *,
    limit: int = 50,
    offset: int = 0,
    cursor: str | None = None,
) -> Page[AutopilotRun]:
    """The persona's runs, newest first, after ``cursor``; total counted up to COUNT_CAP."""
    persona = personas.get(session, principal, persona_id)
    return RunRepository(session).recent(
        principal.workspace_id, persona_id=persona.id, limit=limit, offset=offset, cursor=cursor
    )


PLATFORM_LABELS = {"linkedin": "LinkedIn", "x": "X", "bluesky": "Bluesky", "webhook": "webhook"}


def _platform_words(platforms: Sequence[str]) -> str:
    labels = [PLATFORM_LABELS.get(p, p) for p in platforms]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def describe_next(session: Session, rule: GenerationRule, persona: Persona, now: datetime) -> str:
    """What a rule will do next, in plain words: "Mon 30 Nov 08:00 (Europe/Berlin): 2 LinkedIn
    drafts on platform teams, to review"."""
    if not rule.enabled:
        return "Paused."
    if rule.next_run_at is None:
        return "The rule has no future occurrence."
    when = describe_slot_instant(rule.next_run_at, persona.timezone)
    plan = rules.plan_rule(session, rule, persona, max(now, ensure_utc(rule.next_run_at)))
    where = (
        "into the next free slots"
        if rule.destination == Destination.slots.value and persona.approval_policy == "auto_approve"
        else "to review"
    )
    platforms = _platform_words(rule.platforms)
    if rule.mode == RuleMode.keep_full.value and plan.needed == 0:
        return f"{when}: check the queue ({rule.count} wanted; full right now, nothing to draft)."
    if not plan.plans:
        return f"{when}: nothing ({plan.reason})"
    topics: list[str] = []
    for p in plan.plans:
        if p.topic and p.topic not in topics:
            topics.append(p.topic)
    on = f" on {', '.join(topics)}" if topics else ""
    noun = "draft" if plan.needed == 1 else "drafts"
    prefix = "up to " if rule.mode == RuleMode.keep_full.value else ""
    return f"{when}: {prefix}{plan.needed} {platforms} {noun}{on}, {where}"


def describe_schedule(rule: GenerationRule, persona: Persona) -> str:
    try:
        return describe_rule(rule.rrule, persona.timezone)
    except DigipersonaError:
        return rule.rrule


@dataclass
class PersonaStatus:
    """One persona's autopilot at a glance: rules with their next step, triggers, recent runs."""

    persona: Persona
    rules: list[tuple[GenerationRule, str, str]]  # rule, schedule sentence, next step
    triggers: list[Trigger]
    runs: list[AutopilotRun]


def status(
    session: Session,
    principal: Principal,
    *,
    persona_id: uuid.UUID | None = None,
    now: datetime | None = None,
    runs: int = 5,
) -> list[PersonaStatus]:
    """What the autopilot will do next and did last, per persona of the workspace."""
    now = now or utcnow()
    if persona_id is not None:
        targets = [personas.get(session, principal, persona_id)]
    else:
        targets, _total = personas.list_personas(session, principal, limit=200)
    out = []
    for persona in targets:
        rules = RuleRepository(session).for_persona(principal.workspace_id, persona.id)
        out.append(
            PersonaStatus(
                persona=persona,
                rules=[
                    (r, describe_schedule(r, persona), describe_next(session, r, persona, now))
                    for r in rules
                ],
                triggers=TriggerRepository(session).for_persona(principal.workspace_id, persona.id),
                runs=RunRepository(session)
                .recent(principal.workspace_id, persona_id=persona.id, limit=runs, with_total=False)
                .items,
            )
        )
    return out
