"""The autopilot: drafts made on a schedule (rules) or when something happens (triggers).

How a run works (rules, feed items, webhooks and engagement events alike):

1. Plan the drafts: topics rotate through the rule's pillars (or the persona's topics) and post
   structures rotate through the provider's structures, never repeating the previous draft's
   topic or structure when there is a choice.
2. Draft them through the posts service (the same path as ``digipersona generate`` and
   ``POST /api/v1/content/generate``), then route each draft: into review (the default), or, for
   personas with ``auto_approve`` and a rule whose destination is ``slots``, approved and
   scheduled into the persona's next free slots through the publishing service.
3. Record the run: when, which posts, why nothing was made, or what failed.

NO TRANSACTION IS OPEN WHILE THE AI PROVIDER ANSWERS (seconds to tens of seconds for a remote
model). SQLite has one write lock: held that long, it would stall the publishing dispatcher and
every web request. And a deferred transaction that reads, waits, then writes fails at once on
SQLite ("database is locked", SQLITE_BUSY_SNAPSHOT) if another writer committed meanwhile, so the
reads and the write cannot share one transaction either. Each run is therefore three steps, and
these entry points take the session factory rather than a session: (a) a short read unit of work
plans the drafts and gathers the prompt's inputs as plain data; (b) the provider is asked with no
session open; (c) a short ``write_scope`` re-loads the rule or trigger, re-checks what may have
changed meanwhile (deleted, paused, the queue filled), then writes the drafts, routes them and
records the run exactly once. A webhook event is claimed in a first short ``write_scope`` so the
same event delivered twice at once is drafted once; a feed is claimed by its poll lease (tasks).

A run is ALL OR NOTHING: its drafts are written inside a savepoint, and any failure (the AI
provider is down halfway, a database error) rolls every draft of that run back; the run is
recorded as failed and the rule is retried after ``DIGIPERSONA_AUTOPILOT_RETRY_MINUTES``
(doubling per consecutive failure, never later than its next regular time). A draft that is
created but cannot go to review (a guardrail refuses it) stays a draft, and the run says why.

The autopilot acts as the workspace's first owner (like the CLI) but with only the ``read``,
``drafts`` and ``publish`` permissions: it can never approve a post of a persona that requires
approval.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

import httpx
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from digipersona import db
from digipersona.ai import service as ai_service
from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.autopilot import feeds, planning
from digipersona.autopilot.planning import PlannedDraft, Rotation
from digipersona.autopilot.repository import (
    FeedItemRepository,
    QueueRepository,
    RuleRepository,
    RunRepository,
    TriggerRepository,
)
from digipersona.autopilot.schemas import RuleCreate, RuleUpdate, TriggerCreate, TriggerUpdate
from digipersona.config import Settings, get_settings
from digipersona.exceptions import (
    Conflict,
    DigipersonaError,
    NotFound,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from digipersona.generation import Draft, DraftRequest, GenerationProvider, PersonaProfile
from digipersona.kit import outbound
from digipersona.kit.repository import Page
from digipersona.kit.security import constant_time_equals, new_token, token_hash
from digipersona.kit.time import ensure_utc, utcnow
from digipersona.models import (
    AutopilotRun,
    Destination,
    GenerationRule,
    Persona,
    Post,
    PostStatus,
    Role,
    RuleMode,
    RunStatus,
    SeenFeedItem,
    Trigger,
    TriggerKind,
)
from digipersona.notifications.service import notify
from digipersona.personas import service as personas
from digipersona.posts import service as posts
from digipersona.publishing import service as publishing
from digipersona.scheduling.describe import describe_rule, describe_slot_instant
from digipersona.scheduling.slots import iter_slots

logger = logging.getLogger("digipersona.autopilot")

MAX_DRAFTS_PER_RUN = 5
# A webhook event claimed but never finished (the process died while the provider answered)
# may be drafted again after this long; far above any provider timeout with its retries.
EVENT_CLAIM_TIMEOUT = timedelta(minutes=10)
AUTOPILOT_PERMISSIONS = frozenset({Permission.read, Permission.drafts, Permission.publish})
PLATFORM_LABELS = {"linkedin": "LinkedIn", "x": "X", "bluesky": "Bluesky", "webhook": "webhook"}


# -- who acts --------------------------------------------------------------------------------
def autopilot_principal(session: Session, workspace_id: uuid.UUID) -> Principal:
    """The autopilot's identity in a workspace: its first owner, with drafting rights only."""
    user = QueueRepository(session).workspace_owner(workspace_id)
    if user is None:
        raise NotFound("This workspace has no owner the autopilot could act for.")
    return Principal(
        user=user,
        workspace_id=workspace_id,
        role=Role.owner,
        permissions=AUTOPILOT_PERMISSIONS,
        via="autopilot",
    )


# -- rules: CRUD -------------------------------------------------------------------------------
def _check_destination(persona: Persona, destination: str) -> None:
    if destination == Destination.slots.value and persona.approval_policy != "auto_approve":
        raise ValidationFailed(
            "Drafts can go straight into slots only for a persona that auto-approves: set the "
            "persona's approval policy to auto_approve, or use destination 'review'.",
            errors=[{"field": "destination", "message": "persona requires approval"}],
        )


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


def list_rules(session: Session, principal: Principal, persona_id: uuid.UUID) -> list[Any]:
    persona = personas.get(session, principal, persona_id)
    return RuleRepository(session).for_persona(principal.workspace_id, persona.id)


def get_rule(
    session: Session, principal: Principal, persona_id: uuid.UUID, rule_id: uuid.UUID
) -> GenerationRule:
    persona = personas.get(session, principal, persona_id)
    rule = RuleRepository(session).get_in_workspace(principal.workspace_id, rule_id)
    if rule is None or rule.persona_id != persona.id:
        raise NotFound("No such autopilot rule for this persona.")
    return rule


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
    _check_destination(persona, data.destination)
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
    _check_destination(persona, changes.get("destination", rule.destination))
    _check_count(changes.get("mode", rule.mode), changes.get("count", rule.count))
    if "rrule" in changes or changes.get("enabled") is True:
        rule.next_run_at = _check_rule_runs(changes.get("rrule", rule.rrule), persona.timezone, now)
        rule.timezone = persona.timezone
        rule.failures = 0
    for key, value in changes.items():
        setattr(rule, key, value)
    session.flush()
    return rule


def delete_rule(
    session: Session, principal: Principal, persona_id: uuid.UUID, rule_id: uuid.UUID
) -> None:
    principal.require(Permission.write)
    rule = get_rule(session, principal, persona_id, rule_id)
    RuleRepository(session).delete(rule)


# -- triggers: CRUD ----------------------------------------------------------------------------
@dataclass
class CreatedTrigger:
    trigger: Trigger
    token: str | None = None


def list_triggers(session: Session, principal: Principal, persona_id: uuid.UUID) -> list[Any]:
    persona = personas.get(session, principal, persona_id)
    return TriggerRepository(session).for_persona(principal.workspace_id, persona.id)


def get_trigger(
    session: Session, principal: Principal, persona_id: uuid.UUID, trigger_id: uuid.UUID
) -> Trigger:
    persona = personas.get(session, principal, persona_id)
    trigger = TriggerRepository(session).get_in_workspace(principal.workspace_id, trigger_id)
    if trigger is None or trigger.persona_id != persona.id:
        raise NotFound("No such autopilot trigger for this persona.")
    return trigger


def create_trigger(
    session: Session,
    principal: Principal,
    persona_id: uuid.UUID,
    data: TriggerCreate,
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> CreatedTrigger:
    """Add a feed, webhook or engagement trigger; a webhook's token is returned this once.

    A feed's URL must pass the outbound guard (``kit/outbound.py``), so ``settings`` is
    required for feeds; a refused URL is a 422 and nothing is written.
    """
    principal.require(Permission.write)
    now = now or utcnow()
    persona = personas.get(session, principal, persona_id)
    _check_destination(persona, data.destination)
    trigger = Trigger(
        workspace_id=principal.workspace_id,
        persona_id=persona.id,
        kind=data.kind,
        name=data.name,
        enabled=data.enabled,
        platforms=list(data.platforms),
        destination=data.destination,
        poll_minutes=data.poll_minutes,
        created_by_id=principal.user_id,
    )
    token = None
    if data.kind == TriggerKind.feed.value:
        if data.feed_url is None:
            raise ValidationFailed(
                "A feed trigger needs feed_url: the RSS or Atom address to watch.",
                errors=[{"field": "feed_url", "message": "required for feeds"}],
            )
        _check_feed_url(str(data.feed_url), settings)
        trigger.feed_url = str(data.feed_url)
        trigger.next_poll_at = now
    elif data.feed_url is not None:
        raise ValidationFailed(
            "feed_url is only for feed triggers.",
            errors=[{"field": "feed_url", "message": "only for kind 'feed'"}],
        )
    if data.kind == TriggerKind.webhook.value:
        token = new_token("dp_hook_")
        trigger.token_hash = token_hash(token)
        trigger.token_hint = token[-4:]
    if data.kind == TriggerKind.engagement.value:
        existing = TriggerRepository(session).for_persona(
            principal.workspace_id, persona.id, TriggerKind.engagement.value
        )
        if existing:
            raise Conflict("This persona already has an engagement trigger; change that one.")
    TriggerRepository(session).add(trigger)
    return CreatedTrigger(trigger, token)


def _check_feed_url(url: str, settings: Settings | None) -> None:
    if settings is None:
        raise TypeError("a feed URL is checked against the settings: pass settings=")
    outbound.ensure_allowed(url, settings, field="feed_url")


def rotate_token(
    session: Session, principal: Principal, persona_id: uuid.UUID, trigger_id: uuid.UUID
) -> CreatedTrigger:
    """A new secret token for a webhook trigger; the old one stops working at once."""
    principal.require(Permission.write)
    trigger = get_trigger(session, principal, persona_id, trigger_id)
    if trigger.kind != TriggerKind.webhook.value:
        raise Conflict(f"Only webhook triggers have a token; this one is a {trigger.kind} trigger.")
    token = new_token("dp_hook_")
    trigger.token_hash = token_hash(token)
    trigger.token_hint = token[-4:]
    session.flush()
    return CreatedTrigger(trigger, token)


def update_trigger(
    session: Session,
    principal: Principal,
    persona_id: uuid.UUID,
    trigger_id: uuid.UUID,
    data: TriggerUpdate,
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> Trigger:
    """Change a trigger; a new feed URL is checked like one of ``create_trigger``."""
    principal.require(Permission.write)
    now = now or utcnow()
    trigger = get_trigger(session, principal, persona_id, trigger_id)
    persona = personas.get(session, principal, persona_id)
    changes = data.model_dump(exclude_none=True)
    _check_destination(persona, changes.get("destination", trigger.destination))
    if "feed_url" in changes:
        if trigger.kind != TriggerKind.feed.value:
            raise ValidationFailed(
                "feed_url is only for feed triggers.",
                errors=[{"field": "feed_url", "message": "only for kind 'feed'"}],
            )
        _check_feed_url(str(data.feed_url), settings)
        changes["feed_url"] = str(data.feed_url)
        # Another feed: its validators and its baseline start over.
        trigger.etag = trigger.last_modified = None
        trigger.baseline_done = False
        trigger.next_poll_at = now
    if changes.get("enabled") is True and trigger.kind == TriggerKind.feed.value:
        trigger.next_poll_at = now
        trigger.failures = 0
    for key, value in changes.items():
        setattr(trigger, key, value)
    session.flush()
    return trigger


def delete_trigger(
    session: Session, principal: Principal, persona_id: uuid.UUID, trigger_id: uuid.UUID
) -> None:
    principal.require(Permission.write)
    trigger = get_trigger(session, principal, persona_id, trigger_id)
    TriggerRepository(session).delete(trigger)


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


# -- drafting ----------------------------------------------------------------------------------
@dataclass
class DraftJob:
    """Everything one run drafts: the plans, the shared brief and where the drafts go."""

    plans: list[PlannedDraft]
    platforms: list[str]
    destination: str
    brief: str = ""
    link_url: str | None = None
    source_title: str | None = None
    # The workspace's (or persona's) AI configuration, read with the plans.
    ai: ai_service.Resolved | None = None


@dataclass
class Outcome:
    """What a run did, before it is recorded."""

    posts: list[Post] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)


def _route(
    session: Session,
    principal: Principal,
    settings: Settings,
    persona: Persona,
    post: Post,
    destination: str,
    now: datetime,
) -> dict[str, Any]:
    """Send a fresh draft where the rule says; returns a note of where it went and why."""
    # Each step in its own savepoint: a refusal leaves the draft exactly as it was.
    try:
        with session.begin_nested():
            posts.submit(session, principal, post.id)
    except ValidationFailed as exc:
        return {"post_id": str(post.id), "status": post.status, "note": exc.message}
    note: dict[str, Any] = {"post_id": str(post.id), "status": post.status}
    if destination == Destination.slots.value:
        if post.status != PostStatus.approved.value:
            note["note"] = (
                "The persona no longer auto-approves, so the draft went to review instead of "
                "into a slot."
            )
            return note
        try:
            with session.begin_nested():
                pubs = publishing.schedule(session, principal, settings, post.id, now=now)
        except DigipersonaError as exc:
            note["note"] = f"Approved but not scheduled: {exc.message}"
            return note
        note["status"] = post.status
        note["scheduled_at"] = [ensure_utc(p.scheduled_at).isoformat() for p in pubs]
    return note


@dataclass
class Answer:
    """What the AI provider gave for a job: one draft per plan, or why it gave none."""

    drafts: list[Draft]
    error: str | None = None
    # Budget held for the calls (settled in the unit of work that records them).
    held: ai_service.Reservation = ai_service.NO_RESERVATION


def _settle(session: Session, answers: Sequence[Answer | None]) -> None:
    """Drop the budget holds of answers in the unit of work that records their usage."""
    for answer in answers:
        if answer is not None:
            ai_service.settle(session, answer.held)


def _ask(
    factory: sessionmaker[Session],
    settings: Settings,
    profile: PersonaProfile,
    job: DraftJob,
    provider: GenerationProvider | None,
) -> Answer:
    """Ask the AI provider for every draft of a job. No transaction is open while the model
    answers: callers close their read unit of work first, so no write lock waits on a remote
    model (module docstring); the budget is held in a short unit of work before (``ai.reserve``).
    A job that could pass the workspace's monthly AI budget is not asked (a failed run, and
    the workspace notified once a month). Callers ``_settle`` the answer when they write."""
    held = ai_service.NO_RESERVATION
    if job.ai is not None:
        try:
            held = ai_service.reserve(factory, job.ai, calls=len(job.plans))
        except ai_service.AIBudgetExhausted as exc:
            return Answer([], exc.message)
    try:
        requests = [
            DraftRequest(
                persona=profile,
                brief=job.brief,
                platforms=tuple(job.platforms),
                count=1,
                structure=plan.structure,
                topic=plan.topic or None,
                link=job.link_url,
                source_title=job.source_title,
            )
            for plan in job.plans
        ]
        config = job.ai.config if job.ai is not None else None
        return Answer(
            posts.ask_provider(settings, requests, provider=provider, per_request=1, config=config),
            held=held,
        )
    except Exception as exc:  # nothing was written; the failure is recorded as a failed run
        return Answer([], _describe(exc), held=held)


def _describe(exc: Exception) -> str:
    message = exc.message if isinstance(exc, DigipersonaError) else repr(exc)
    return f"{type(exc).__name__}: {message}"


def _record(
    session: Session,
    persona: Persona,
    *,
    source: str,
    status: RunStatus,
    now: datetime,
    rule: GenerationRule | None = None,
    trigger: Trigger | None = None,
    posts_made: Sequence[Post] = (),
    reason: str | None = None,
    error: str | None = None,
    details: dict[str, Any] | None = None,
) -> AutopilotRun:
    run = AutopilotRun(
        workspace_id=persona.workspace_id,
        persona_id=persona.id,
        rule_id=rule.id if rule else None,
        trigger_id=trigger.id if trigger else None,
        source=source,
        status=status.value,
        started_at=now,
        finished_at=utcnow(),
        post_ids=[str(p.id) for p in posts_made],
        reason=reason,
        error=error,
        details=details or {},
    )
    RunRepository(session).add(run)
    return run


def _save(
    session: Session,
    settings: Settings,
    persona: Persona,
    job: DraftJob,
    answer: Answer,
    *,
    now: datetime,
) -> tuple[Outcome | None, str | None]:
    """Write a job's drafts all-or-nothing in a savepoint: (outcome, None) or (None, error)."""
    if answer.error is not None:
        return None, answer.error
    savepoint = session.begin_nested()
    try:
        principal = autopilot_principal(session, persona.workspace_id)
        outcome = Outcome()
        for plan, draft in zip(job.plans, answer.drafts, strict=True):
            [saved] = posts.save_drafts(
                session,
                principal,
                persona_id=persona.id,
                drafts=[draft],
                brief=job.brief,
                platforms=job.platforms,
                link_url=job.link_url,
            )
            outcome.posts.append(saved.post)
            note = _route(session, principal, settings, persona, saved.post, job.destination, now)
            note.update({"topic": plan.topic, "structure": plan.structure})
            outcome.notes.append(note)
    except Exception as exc:  # any failure undoes every draft of the run, then is recorded
        savepoint.rollback()
        return None, _describe(exc)
    savepoint.commit()
    return outcome, None


def _notify_failure(session: Session, persona: Persona, what: str, error: str | None) -> None:
    notify(
        session,
        workspace_id=persona.workspace_id,
        kind="autopilot.failed",
        title=f"{persona.name}: the autopilot could not draft ({what})",
        body=(error or "")[:500],
        data={"persona_id": str(persona.id)},
    )


# -- rules: running ----------------------------------------------------------------------------
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
        job = DraftJob(
            plans=first.plans,
            platforms=list(rule.platforms),
            destination=rule.destination,
            brief=rule.brief,
            ai=ai_service.resolve(session, persona.workspace_id, settings, persona),
        )
    answer = _ask(factory, settings, profile, job, provider) if job.plans else None
    with db.write_scope(factory) as session:
        _settle(session, [answer])
        return _finish_rule(
            session, settings, rule_id, persona_id, job, answer, first, now=now, source=source
        )


def _finish_rule(
    session: Session,
    settings: Settings,
    rule_id: uuid.UUID,
    persona_id: uuid.UUID,
    job: DraftJob,
    answer: Answer | None,
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
    if rule is None or not rule.enabled:
        # Like any run of a deleted rule, this one stays (without its rule) and says why.
        return _record(
            session,
            persona,
            source=source,
            status=RunStatus.nothing,
            now=now,
            rule=rule,
            reason="The rule was paused or deleted while its drafts were being written; "
            "nothing was kept.",
            details=first.details,
        )
    rule.last_run_at = now
    plan = first
    if answer is not None and answer.error is None:
        # The queue may have filled (or the topics gone) while the provider answered.
        plan = plan_rule(session, rule, persona, now)
    if answer is None or not plan.plans:
        rule.failures = 0
        rule.next_run_at = planning.next_run_after(rule.rrule, persona.timezone, now)
        rule.timezone = persona.timezone
        return _record(
            session,
            persona,
            source=source,
            status=RunStatus.nothing,
            now=now,
            rule=rule,
            reason=plan.reason,
            details=plan.details,
        )
    keep = min(len(job.plans), len(plan.plans))
    job.plans = job.plans[:keep]
    answer.drafts = answer.drafts[:keep]
    details = dict(plan.details)
    details["plans"] = [{"topic": p.topic, "structure": p.structure} for p in job.plans]
    details["cursors"] = first.details["cursors"]
    outcome, error = _save(session, settings, persona, job, answer, now=now)
    if outcome is None:
        rule.failures += 1
        rule.next_run_at = _retry_at(settings, rule, persona, now)
        if rule.failures == 1:  # once per failure streak, not at every retry
            _notify_failure(session, persona, f"rule {rule.name or rule.rrule}", error)
        details["retry_at"] = rule.next_run_at.isoformat()
        return _record(
            session,
            persona,
            source=source,
            status=RunStatus.failed,
            now=now,
            rule=rule,
            error=error,
            reason="Nothing was kept; the rule runs again at the retry time.",
            details=details,
        )
    rule.failures = 0
    rule.topic_cursor, rule.structure_cursor = details["cursors"]
    rule.next_run_at = planning.next_run_after(rule.rrule, persona.timezone, now)
    rule.timezone = persona.timezone
    details["drafts"] = outcome.notes
    return _record(
        session,
        persona,
        source=source,
        status=RunStatus.generated,
        now=now,
        rule=rule,
        posts_made=outcome.posts,
        details=details,
    )


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


# -- events: feed items, webhooks, engagement --------------------------------------------------
@dataclass
class EventDraft:
    """The read step of an event's run as plain data: what to ask the AI provider for."""

    trigger_id: uuid.UUID
    persona_id: uuid.UUID
    profile: PersonaProfile
    job: DraftJob
    structure_cursor: int
    details: dict[str, Any]


@dataclass(frozen=True)
class Event:
    """Something to comment on: a feed item, a webhook payload, an engagement."""

    title: str
    text: str
    url: str | None


def _plan_events(
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
        job = DraftJob(
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


def _record_event(
    session: Session,
    settings: Settings,
    trigger: Trigger,
    persona: Persona,
    event: EventDraft,
    answer: Answer,
    *,
    source: str,
    now: datetime,
) -> AutopilotRun:
    """The write step of an event's run: save the draft (or the failure) and record the run."""
    outcome, error = _save(session, settings, persona, event.job, answer, now=now)
    details = dict(event.details)
    if outcome is None:
        _notify_failure(session, persona, source, error)
        return _record(
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
    return _record(
        session,
        persona,
        source=source,
        status=RunStatus.generated,
        now=now,
        trigger=trigger,
        posts_made=outcome.posts,
        details=details,
    )


def _trigger_gone(
    session: Session,
    trigger: Trigger | None,
    persona: Persona,
    source: str,
    now: datetime,
    details: dict[str, Any],
) -> AutopilotRun:
    """The run of an event whose trigger was disabled or deleted while the provider answered."""
    return _record(
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


def webhook_trigger(
    session: Session, persona_id: uuid.UUID, trigger_id: uuid.UUID, token: str | None
) -> Trigger:
    """The webhook trigger a request names, if its token matches (404 unknown, 401 bad token)."""
    trigger = TriggerRepository(session).get_for_persona(persona_id, trigger_id)
    if trigger is None or trigger.kind != TriggerKind.webhook.value:
        raise NotFound("No such webhook trigger.")
    expected = trigger.token_hash or ""
    given = token_hash(token or "")
    # Compare even when no token was sent, so the answer takes the same time.
    if not constant_time_equals(expected, given) or not token or not expected:
        raise Unauthorized(
            "Wrong or missing trigger token: send it as 'Authorization: Bearer <token>' (the "
            "token shown when the trigger was created)."
        )
    _check_enabled(trigger)
    return trigger


def _check_enabled(trigger: Trigger) -> None:
    if not trigger.enabled:
        raise Conflict("This webhook trigger is disabled; enable it to accept events.")


def fire_webhook(
    factory: sessionmaker[Session],
    settings: Settings,
    trigger_id: uuid.UUID,
    *,
    title: str,
    text: str,
    url: str | None,
    event_id: str | None = None,
    now: datetime | None = None,
    provider: GenerationProvider | None = None,
) -> AutopilotRun:
    """Draft from a webhook event, once per event: senders retry, the persona should not repeat.

    An event is known by ``event_id`` (the ``Idempotency-Key`` header) or else by its URL. A
    short first ``write_scope`` claims it (a seen-item row; the unique key makes a concurrent
    twin a duplicate) and plans the draft; the AI provider answers with no transaction open; a
    second ``write_scope`` re-checks the trigger and records the run. An event already drafted
    from is recorded as a run that made nothing. A failed draft forgets the event, so the
    sender's retry drafts it; so does a claim left behind by a crash, once it is
    ``EVENT_CLAIM_TIMEOUT`` old.
    """
    now = now or utcnow()
    with db.write_scope(factory) as session:
        trigger = session.get(Trigger, trigger_id)
        if trigger is None or trigger.kind != TriggerKind.webhook.value:
            raise NotFound("No such webhook trigger.")
        _check_enabled(trigger)
        persona = session.get(Persona, trigger.persona_id)
        assert persona is not None  # the trigger cascades with its persona
        limit = settings.autopilot_webhook_events_per_hour
        if (
            limit
            and RunRepository(session).count_since(trigger.id, now - timedelta(hours=1)) >= limit
        ):
            raise TooManyRequests(
                f"This webhook trigger took {limit} events in the last hour "
                "(DIGIPERSONA_AUTOPILOT_WEBHOOK_EVENTS_PER_HOUR); send the next one later.",
                retry_after=3600,
            )
        identity = event_id or url
        key = feeds.item_key(f"webhook:{identity}") if identity else None
        if key is not None and not _claim_event(session, trigger, key, title or text, url, now):
            return _record(
                session,
                persona,
                source="webhook",
                status=RunStatus.nothing,
                now=now,
                trigger=trigger,
                reason="This event was already drafted from (same Idempotency-Key or URL).",
                details={"title": title[:500], "url": url},
            )
        [event] = _plan_events(session, settings, trigger, persona, [Event(title, text, url)])
    answer = _ask(factory, settings, event.profile, event.job, provider)
    with db.write_scope(factory) as session:
        _settle(session, [answer])
        persona = session.get(Persona, event.persona_id)
        if persona is None:
            raise NotFound("The trigger's persona no longer exists.")
        trigger = session.get(Trigger, trigger_id)
        items = FeedItemRepository(session)
        seen = items.get_key(trigger_id, key) if key is not None else None
        if trigger is None or not trigger.enabled:
            if seen is not None:
                items.delete(seen)
            return _trigger_gone(session, trigger, persona, "webhook", now, event.details)
        run = _record_event(
            session, settings, trigger, persona, event, answer, source="webhook", now=now
        )
        if seen is not None:
            if run.status == RunStatus.failed.value:
                items.delete(seen)
            else:
                seen.post_id = uuid.UUID(run.post_ids[0])
        return run


def _claim_event(
    session: Session, trigger: Trigger, key: str, title: str, url: str | None, now: datetime
) -> bool:
    """Mark a webhook event as being drafted; False if it already was (or is being) drafted."""
    items = FeedItemRepository(session)
    seen = items.get_key(trigger.id, key)
    if seen is not None:
        abandoned = seen.post_id is None and ensure_utc(seen.seen_at) <= now - EVENT_CLAIM_TIMEOUT
        if abandoned:  # a crash between the claim and the write: this delivery takes it over
            seen.seen_at = now
            session.flush()
        return abandoned
    savepoint = session.begin_nested()
    try:
        session.add(
            SeenFeedItem(
                workspace_id=trigger.workspace_id,
                trigger_id=trigger.id,
                item_key=key,
                title=title[:500],
                link=url,
                seen_at=now,
            )
        )
        session.flush()
    except IntegrityError:  # the same event, arriving twice at once
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


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
        [event] = _plan_events(
            session,
            settings,
            trigger,
            persona,
            [Event(reason, text, url)],
            extra={"reason": reason},
        )
    answer = _ask(factory, settings, event.profile, event.job, provider)
    with db.write_scope(factory) as session:
        _settle(session, [answer])
        trigger = session.get(Trigger, event.trigger_id)
        persona = session.get(Persona, persona_id)
        if persona is None:
            return None
        if trigger is None or not trigger.enabled:
            return _trigger_gone(session, trigger, persona, "engagement", now, event.details)
        return _record_event(
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


# -- in plain words ----------------------------------------------------------------------------
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
    plan = plan_rule(session, rule, persona, max(now, ensure_utc(rule.next_run_at)))
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


# -- feeds -------------------------------------------------------------------------------------
def poll_feed(
    factory: sessionmaker[Session],
    settings: Settings,
    http: httpx.Client,
    trigger_id: uuid.UUID,
    *,
    now: datetime | None = None,
    provider: GenerationProvider | None = None,
) -> list[AutopilotRun] | None:
    """Fetch one feed and draft a comment on each new item (each item is used once); None if
    the trigger is gone or disabled.

    The first successful poll only marks the items already there as seen (a new feed is not
    news). Errors (unreachable, refused by the outbound guard, too slow, too big, malformed) are
    recorded as a failed run and create nothing. When a draft fails, the item stays unseen and
    the feed's validators are dropped, so the next poll fetches it again and retries.

    Neither the fetch nor the AI provider runs inside a transaction (module docstring). The new
    items, the feed's validators and the drafts are written together at the end, so a crash
    meanwhile forgets nothing: the next poll (the claim's lease keeps others away until then)
    fetches the items again.
    """
    now = now or utcnow()
    with db.session_scope(factory) as session:
        trigger = session.get(Trigger, trigger_id)
        if trigger is None or not trigger.enabled:
            return None
        feed_url, etag, last_modified = trigger.feed_url or "", trigger.etag, trigger.last_modified
    try:
        result: feeds.FeedResult | feeds.FeedError = feeds.fetch(
            # The URL is a member's choice: only the outbound guard's client may fetch it.
            outbound.guarded(http, settings, timeout=settings.autopilot_feed_timeout_seconds),
            feed_url,
            etag=etag,
            last_modified=last_modified,
            timeout=settings.autopilot_feed_timeout_seconds,
            max_bytes=settings.autopilot_feed_max_bytes,
            max_items=settings.autopilot_feed_max_items,
        )
    except feeds.FeedError as exc:
        result = exc
    with db.write_scope(factory) as session:
        trigger = session.get(Trigger, trigger_id)
        if trigger is None or not trigger.enabled:
            return None
        persona = session.get(Persona, trigger.persona_id)
        assert persona is not None  # the trigger cascades with its persona
        trigger.last_polled_at = now
        trigger.next_poll_at = now + timedelta(minutes=trigger.poll_minutes)
        if isinstance(result, feeds.FeedError):
            return [_feed_failed(session, trigger, persona, str(result), now)]
        trigger.failures = 0
        if result.not_modified:
            trigger.last_status = "Not modified since the last poll (HTTP 304)."
            return []
        new = _new_entries(session, trigger, result)
        if not trigger.baseline_done:
            trigger.etag, trigger.last_modified = result.etag, result.last_modified
            trigger.baseline_done = True
            for entry in new:
                _mark_seen(session, trigger, entry, now)
            trigger.last_status = f"First poll: {len(new)} existing item(s) marked as seen."
            return [
                _record(
                    session,
                    persona,
                    source="feed",
                    status=RunStatus.nothing,
                    now=now,
                    trigger=trigger,
                    reason=f"First poll: the {len(new)} item(s) already in the feed are not "
                    "news; items published from now on get drafts.",
                    details={"feed_url": trigger.feed_url},
                )
            ]
        if not new:
            trigger.etag, trigger.last_modified = result.etag, result.last_modified
            trigger.last_status = "No new items."
            return []
        limit = settings.autopilot_feed_drafts_per_poll
        events = _plan_events(
            session,
            settings,
            trigger,
            persona,
            [Event(e.title, e.summary, e.link) for e in new[:limit]],
            extra={"feed_url": trigger.feed_url},
        )
    answers: list[Answer] = []
    for event in events:
        answers.append(_ask(factory, settings, event.profile, event.job, provider))
        if answers[-1].error is not None:
            break  # the items after a failure are retried with it at the next poll
    with db.write_scope(factory) as session:
        _settle(session, answers)
        return _record_feed_drafts(session, settings, trigger_id, result, new, events, answers, now)


def _feed_failed(
    session: Session, trigger: Trigger, persona: Persona, error: str, now: datetime
) -> AutopilotRun:
    trigger.failures += 1
    trigger.last_status = f"Error: {error}"
    if trigger.failures == 1:
        _notify_failure(session, persona, f"feed {trigger.feed_url}", error)
    return _record(
        session,
        persona,
        source="feed",
        status=RunStatus.failed,
        now=now,
        trigger=trigger,
        error=error,
        reason="Nothing was drafted from this feed; it is polled again at the next interval.",
        details={"feed_url": trigger.feed_url},
    )


def _new_entries(
    session: Session, trigger: Trigger, result: feeds.FeedResult
) -> list[feeds.FeedEntry]:
    """The fetched items not seen before, in feed order (an item listed twice is one item)."""
    seen = FeedItemRepository(session).seen_keys(trigger.id, [e.key for e in result.entries])
    new: list[feeds.FeedEntry] = []
    for entry in result.entries:
        if entry.key not in seen:
            seen.add(entry.key)
            new.append(entry)
    return new


def _record_feed_drafts(
    session: Session,
    settings: Settings,
    trigger_id: uuid.UUID,
    result: feeds.FeedResult,
    new: list[feeds.FeedEntry],
    events: list[EventDraft],
    answers: list[Answer],
    now: datetime,
) -> list[AutopilotRun] | None:
    """The write step of a poll with new items: one run per item drafted (or failed)."""
    trigger = session.get(Trigger, trigger_id)
    persona = session.get(Persona, events[0].persona_id)
    if persona is None:
        return None
    if trigger is None or not trigger.enabled:
        # Nothing is marked seen: re-enabled, the feed drafts these items then.
        details = {"feed_url": events[0].details["feed_url"]}
        return [_trigger_gone(session, trigger, persona, "feed", now, details)]
    runs = []
    for entry, event, answer in zip(new, events, answers, strict=False):
        run = _record_event(
            session, settings, trigger, persona, event, answer, source="feed", now=now
        )
        runs.append(run)
        if run.status == RunStatus.failed.value:
            # Retry these items next poll: forget the validators so a 304 cannot hide them.
            trigger.etag = trigger.last_modified = None
            trigger.last_status = f"Drafting failed: {run.error}"
            return runs
        _mark_seen(session, trigger, entry, now, uuid.UUID(run.post_ids[0]))
    limit = len(events)
    for entry in new[limit:]:
        _mark_seen(session, trigger, entry, now)
    trigger.etag, trigger.last_modified = result.etag, result.last_modified
    skipped = len(new) - limit
    trigger.last_status = f"{limit} new item(s) drafted" + (
        f"; {skipped} older new item(s) skipped (at most {limit} per poll)." if skipped else "."
    )
    return runs


def _mark_seen(
    session: Session,
    trigger: Trigger,
    entry: feeds.FeedEntry,
    now: datetime,
    post_id: uuid.UUID | None = None,
) -> None:
    FeedItemRepository(session).add(
        SeenFeedItem(
            workspace_id=trigger.workspace_id,
            trigger_id=trigger.id,
            item_key=entry.key,
            title=entry.title,
            link=entry.link[:2048] if entry.link else None,
            post_id=post_id,
            seen_at=now,
        )
    )
