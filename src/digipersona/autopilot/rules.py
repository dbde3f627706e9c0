"""Generation rules: drafts on a schedule (a persona's RRULE), and what a rule drafts now."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from digipersona import db
from digipersona.ai import service as ai_service
from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.autopilot import drafting, owned, planning
from digipersona.autopilot.planning import PlannedDraft, Rotation
from digipersona.autopilot.repository import QueueRepository, RuleRepository
from digipersona.autopilot.schemas import RuleCreate, RuleUpdate
from digipersona.config import Settings
from digipersona.exceptions import NotFound, ValidationFailed
from digipersona.generation import GenerationProvider
from digipersona.kit.time import ensure_utc, utcnow
from digipersona.models import (
    AutopilotRun,
    GenerationRule,
    Persona,
    PostStatus,
    RuleMode,
    RunStatus,
)
from digipersona.personas import service as personas
from digipersona.scheduling.slots import iter_slots

MAX_DRAFTS_PER_RUN = 5
_NO_RULE = "No such autopilot rule for this persona."


def _check_count(mode: str, count: int) -> None:
    if mode == RuleMode.fixed.value and count > MAX_DRAFTS_PER_RUN:
        raise ValidationFailed(
            f"A rule drafts at most {MAX_DRAFTS_PER_RUN} posts per run; lower count, or use "
            "mode 'keep_full' to keep up to 20 posts queued.",
            errors=[{"field": "count", "message": f"at most {MAX_DRAFTS_PER_RUN} in fixed mode"}],
        )


def _check_rule_runs(rrule: str, tz: str, now: datetime) -> datetime:
    nxt = planning.next_run_after(rrule, tz, now)
    if nxt is None:
        raise ValidationFailed(
            f"The rule {rrule!r} never runs again (its COUNT or UNTIL has passed, or it matches "
            "no date in the next two years): give a rule with future occurrences.",
            errors=[{"field": "rrule", "message": "no future occurrence"}],
        )
    return nxt


def list_rules(
    session: Session, principal: Principal, persona_id: uuid.UUID
) -> list[GenerationRule]:
    return owned.list_of(session, principal, persona_id, RuleRepository(session))


def get_rule(
    session: Session, principal: Principal, persona_id: uuid.UUID, rule_id: uuid.UUID
) -> GenerationRule:
    return owned.find(
        session, principal, persona_id, RuleRepository(session), rule_id, missing=_NO_RULE
    )


def create_rule(
    session: Session,
    principal: Principal,
    persona_id: uuid.UUID,
    data: RuleCreate,
    *,
    now: datetime | None = None,
) -> GenerationRule:
    """Add a generation rule; its first run is the rule's next occurrence."""
    principal.require(Permission.write)
    now = now or utcnow()
    persona = personas.get(session, principal, persona_id)
    drafting.check_destination(persona, data.destination)
    _check_count(data.mode, data.count)
    rule = GenerationRule(
        workspace_id=principal.workspace_id,
        persona_id=persona.id,
        name=data.name,
        enabled=data.enabled,
        rrule=data.rrule,
        mode=data.mode,
        count=data.count,
        platforms=list(data.platforms),
        topics=list(data.topics),
        brief=data.brief,
        destination=data.destination,
        next_run_at=_check_rule_runs(data.rrule, persona.timezone, now),
        timezone=persona.timezone,
        created_by_id=principal.user_id,
    )
    RuleRepository(session).add(rule)
    return rule


def update_rule(
    session: Session,
    principal: Principal,
    persona_id: uuid.UUID,
    rule_id: uuid.UUID,
    data: RuleUpdate,
    *,
    now: datetime | None = None,
) -> GenerationRule:
    principal.require(Permission.write)
    now = now or utcnow()
    rule = get_rule(session, principal, persona_id, rule_id)
    persona = personas.get(session, principal, persona_id)
    changes = data.model_dump(exclude_none=True)
    drafting.check_destination(persona, changes.get("destination", rule.destination))
    _check_count(changes.get("mode", rule.mode), changes.get("count", rule.count))
    if "rrule" in changes or changes.get("enabled") is True:
        rule.next_run_at = _check_rule_runs(changes.get("rrule", rule.rrule), persona.timezone, now)
        rule.timezone = persona.timezone
        rule.failures = 0
    return owned.apply(session, rule, changes)


def delete_rule(
    session: Session, principal: Principal, persona_id: uuid.UUID, rule_id: uuid.UUID
) -> None:
    owned.remove(session, principal, persona_id, RuleRepository(session), rule_id, missing=_NO_RULE)


# -- running ---------------------------------------------------------------------------------
@dataclass
class RulePlan:
    """How many drafts a rule asks for now and why."""

    needed: int
    reason: str | None
    plans: list[PlannedDraft]
    details: dict[str, Any]


def _queued(
    session: Session, persona: Persona, platforms: Sequence[str], window: int, now: datetime
) -> tuple[int, datetime | None]:
    """Posts waiting for the persona's next ``window`` slots: in review, approved, or scheduled
    no later than the last of those slots (posts sharing a platform with the rule)."""
    queue = QueueRepository(session)
    slots = list(
        islice(iter_slots(persona.slots, persona.timezone, now, now + timedelta(days=366)), window)
    )
    horizon = slots[window - 1] if len(slots) >= window else None
    waiting = [p for p in queue.waiting_posts(persona.id) if set(p.platforms) & set(platforms)]
    first_at = queue.first_publication_at([p.id for p in waiting if p.status == "scheduled"])
    count = 0
    for post in waiting:
        if post.status != PostStatus.scheduled.value:
            count += 1
            continue
        at = first_at.get(post.id)
        if at is not None and at >= now and (horizon is None or ensure_utc(at) <= horizon):
            count += 1
    return count, horizon


def plan_rule(session: Session, rule: GenerationRule, persona: Persona, now: datetime) -> RulePlan:
    """Decide what a rule drafts now (nothing is written)."""
    details: dict[str, Any] = {"mode": rule.mode}
    if rule.mode == RuleMode.keep_full.value:
        queued, horizon = _queued(session, persona, rule.platforms, rule.count, now)
        needed = max(0, rule.count - queued)
        details.update({"queued": queued, "target": rule.count})
        if horizon is not None:
            details["horizon"] = horizon.isoformat()
        if needed == 0:
            return RulePlan(
                0,
                f"The queue is full: {queued} post(s) in review, approved or scheduled for the "
                f"next {rule.count} slot(s); nothing to draft.",
                [],
                details,
            )
        needed = min(needed, MAX_DRAFTS_PER_RUN)
    else:
        needed = min(rule.count, MAX_DRAFTS_PER_RUN)
    topics = list(rule.topics) or list(persona.topics)
    if not topics and not rule.brief.strip():
        return RulePlan(
            0,
            "Nothing to write about: add topics to the persona or the rule, or give the rule a "
            "brief.",
            [],
            details,
        )
    last_structure, last_topic = QueueRepository(session).last_structure(persona.id)
    rotation = Rotation(
        topics=topics,
        topic_cursor=rule.topic_cursor,
        structure_cursor=rule.structure_cursor,
        last_topic=last_topic,
        last_structure=last_structure,
    )
    plans = rotation.plan(needed)
    details["plans"] = [{"topic": p.topic, "structure": p.structure} for p in plans]
    details["cursors"] = [rotation.topic_cursor, rotation.structure_cursor]
    return RulePlan(needed, None, plans, details)


def _retry_at(
    settings: Settings, rule: GenerationRule, persona: Persona, now: datetime
) -> datetime:
    delay = timedelta(minutes=settings.autopilot_retry_minutes * 2 ** min(rule.failures - 1, 8))
    regular = planning.next_run_after(rule.rrule, persona.timezone, now)
    retry = now + delay
    return min(retry, regular) if regular is not None else retry


def reanchor_if_moved(session: Session, rule: GenerationRule, now: datetime) -> bool:
    """If the persona changed its time zone since the rule was scheduled, reschedule the rule in
    the new zone (without running it) and return True."""
    persona = session.get(Persona, rule.persona_id)
    if persona is None or persona.timezone == rule.timezone:
        return False
    rule.next_run_at = planning.next_run_after(rule.rrule, persona.timezone, now)
    rule.timezone = persona.timezone
    session.flush()
    return True


def preview_rule(
    session: Session, rule: GenerationRule, *, now: datetime, source: str = "rule"
) -> AutopilotRun:
    """A dry run: an unsaved run describing what the rule would draft now; changes nothing."""
    persona = session.get(Persona, rule.persona_id)
    if persona is None:  # pragma: no cover - the rule cascades with its persona
        raise NotFound("The rule's persona no longer exists.")
    plan = plan_rule(session, rule, persona, now)
    return AutopilotRun(
        id=uuid.uuid4(),
        workspace_id=persona.workspace_id,
        persona_id=persona.id,
        rule_id=rule.id,
        source=source,
        status=RunStatus.dry_run.value,
        started_at=now,
        finished_at=now,
        post_ids=[],
        reason=plan.reason,
        details=plan.details,
    )


def run_rule(
    factory: sessionmaker[Session],
    settings: Settings,
    rule_id: uuid.UUID,
    *,
    now: datetime | None = None,
    provider: GenerationProvider | None = None,
    source: str = "rule",
) -> AutopilotRun | None:
    """Run one rule now, record the run and set the rule's next run; None if the rule (or its
    persona) no longer exists.

    In three steps (module docstring): plan in a read unit of work, ask the AI provider with
    no transaction open, then write in a ``write_scope`` that re-checks the rule first.
    """
    now = now or utcnow()
    with db.session_scope(factory) as session:
        rule = session.get(GenerationRule, rule_id)
        persona = session.get(Persona, rule.persona_id) if rule is not None else None
        if rule is None or persona is None:
            return None
        first = plan_rule(session, rule, persona, now)
        persona_id = persona.id
        profile = personas.profile_of(persona)
        job = drafting.DraftJob(
            plans=first.plans,
            platforms=list(rule.platforms),
            destination=rule.destination,
            brief=rule.brief,
            ai=ai_service.resolve(session, persona.workspace_id, settings, persona),
        )
    answer = drafting.ask(factory, settings, profile, job, provider) if job.plans else None
    with db.write_scope(factory) as session:
        drafting.settle(session, [answer])
        return _finish_rule(
            session, settings, rule_id, persona_id, job, answer, first, now=now, source=source
        )


def _finish_rule(
    session: Session,
    settings: Settings,
    rule_id: uuid.UUID,
    persona_id: uuid.UUID,
    job: drafting.DraftJob,
    answer: drafting.Answer | None,
    first: RulePlan,
    *,
    now: datetime,
    source: str,
) -> AutopilotRun | None:
    """The write step of ``run_rule``: re-check the rule and its plan, keep the drafts still
    wanted, record the run exactly once."""
    rule = session.get(GenerationRule, rule_id)
    persona = session.get(Persona, persona_id)
    if persona is None:
        return None  # deleted meanwhile, and every run of it with it
    run = _RuleRun(session, persona, rule, source=source, now=now)
    if rule is None or not rule.enabled:
        # Like any run of a deleted rule, this one stays (without its rule) and says why.
        return run.record(RunStatus.nothing, reason=_GONE, details=first.details)
    rule.last_run_at = now
    plan = _replan(session, rule, persona, answer, first, now)
    if answer is None or not plan.plans:
        _schedule_next_run(rule, persona, now)
        return run.record(RunStatus.nothing, reason=plan.reason, details=plan.details)
    details = _keep_still_wanted(job, answer, plan, first)
    outcome, error = drafting.save_drafts(session, settings, persona, job, answer, now=now)
    if outcome is None:
        _schedule_retry(session, settings, rule, persona, error, details, now)
        return run.record(RunStatus.failed, error=error, reason=_RETRIED, details=details)
    rule.topic_cursor, rule.structure_cursor = details["cursors"]
    _schedule_next_run(rule, persona, now)
    details["drafts"] = outcome.notes
    return run.record(RunStatus.generated, posts_made=outcome.posts, details=details)


_GONE = "The rule was paused or deleted while its drafts were being written; nothing was kept."
_RETRIED = "Nothing was kept; the rule runs again at the retry time."


@dataclass
class _RuleRun:
    """One run of a rule being recorded: what every outcome of it shares."""

    session: Session
    persona: Persona
    rule: GenerationRule | None
    source: str
    now: datetime

    def record(self, status: RunStatus, **outcome: Any) -> AutopilotRun:
        return drafting.record_run(
            self.session,
            self.persona,
            source=self.source,
            status=status,
            now=self.now,
            rule=self.rule,
            **outcome,
        )


def _replan(
    session: Session,
    rule: GenerationRule,
    persona: Persona,
    answer: drafting.Answer | None,
    first: RulePlan,
    now: datetime,
) -> RulePlan:
    """The plan again once the provider answered: the queue may have filled (or the topics
    gone) meanwhile."""
    if answer is not None and answer.error is None:
        return plan_rule(session, rule, persona, now)
    return first


def _keep_still_wanted(
    job: drafting.DraftJob, answer: drafting.Answer, plan: RulePlan, first: RulePlan
) -> dict[str, Any]:
    """Drop the drafts the new plan no longer wants; the run's details for what is kept."""
    keep = min(len(job.plans), len(plan.plans))
    job.plans = job.plans[:keep]
    answer.drafts = answer.drafts[:keep]
    details = dict(plan.details)
    details["plans"] = [{"topic": p.topic, "structure": p.structure} for p in job.plans]
    details["cursors"] = first.details["cursors"]
    return details


def _schedule_next_run(rule: GenerationRule, persona: Persona, now: datetime) -> None:
    """A run that did not fail: the streak ends and the rule's next regular time is set."""
    rule.failures = 0
    rule.next_run_at = planning.next_run_after(rule.rrule, persona.timezone, now)
    rule.timezone = persona.timezone


def _schedule_retry(
    session: Session,
    settings: Settings,
    rule: GenerationRule,
    persona: Persona,
    error: str | None,
    details: dict[str, Any],
    now: datetime,
) -> None:
    """A failed run: retry later (backing off), notifying once per failure streak."""
    rule.failures += 1
    rule.next_run_at = _retry_at(settings, rule, persona, now)
    if rule.failures == 1:  # once per failure streak, not at every retry
        drafting.notify_failure(session, persona, f"rule {rule.name or rule.rrule}", error)
    details["retry_at"] = rule.next_run_at.isoformat()


def run_persona_now(
    factory: sessionmaker[Session],
    principal: Principal,
    settings: Settings,
    persona_id: uuid.UUID,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    provider: GenerationProvider | None = None,
) -> list[AutopilotRun]:
    """Run every enabled rule of a persona now (``digipersona autopilot run``); [] if none.

    Each rule in its own units of work (``run_rule``); a dry run only reads.
    """
    principal.require(Permission.drafts)
    with db.session_scope(factory) as session:
        persona = personas.get(session, principal, persona_id)
        rules = RuleRepository(session).for_persona(persona.workspace_id, persona.id)
        rules = [r for r in rules if r.enabled]
        if dry_run:
            at = now or utcnow()
            return [preview_rule(session, r, now=at, source="manual") for r in rules]
    runs = [
        run_rule(factory, settings, r.id, now=now, provider=provider, source="manual")
        for r in rules
    ]
    return [r for r in runs if r is not None]
