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
from typing import Any

import httpx
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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
from digipersona.config import Settings
from digipersona.exceptions import (
    Conflict,
    DigipersonaError,
    NotFound,
    TooManyRequests,
    ValidationFailed,
)
from digipersona.generation import GenerationProvider
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
    now: datetime | None = None,
) -> CreatedTrigger:
    """Add a feed, webhook or engagement trigger; a webhook's token is returned this once."""
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
    now: datetime | None = None,
) -> Trigger:
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
) -> tuple[list[AutopilotRun], int]:
    persona = personas.get(session, principal, persona_id)
    return RunRepository(session).recent(
        principal.workspace_id, persona_id=persona.id, limit=limit, offset=offset
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


def _draft_all(
    session: Session,
    principal: Principal,
    settings: Settings,
    persona: Persona,
    job: DraftJob,
    *,
    now: datetime,
    provider: GenerationProvider | None,
) -> Outcome:
    outcome = Outcome()
    for plan in job.plans:
        views = posts.generate(
            session,
            principal,
            settings,
            persona_id=persona.id,
            brief=job.brief,
            platforms=job.platforms,
            count=1,
            structure=plan.structure,
            topic=plan.topic or None,
            link_url=job.link_url,
            source_title=job.source_title,
            provider=provider,
        )
        post = views[0].post
        outcome.posts.append(post)
        note = _route(session, principal, settings, persona, post, job.destination, now)
        note.update({"topic": plan.topic, "structure": plan.structure})
        outcome.notes.append(note)
    return outcome


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


def _execute(
    session: Session,
    settings: Settings,
    persona: Persona,
    job: DraftJob,
    *,
    now: datetime,
    provider: GenerationProvider | None,
) -> tuple[Outcome | None, str | None]:
    """Draft a job all-or-nothing in a savepoint: (outcome, None) or (None, error message)."""
    savepoint = session.begin_nested()
    try:
        principal = autopilot_principal(session, persona.workspace_id)
        outcome = _draft_all(session, principal, settings, persona, job, now=now, provider=provider)
    except Exception as exc:  # any failure undoes every draft of the run, then is recorded
        savepoint.rollback()
        message = exc.message if isinstance(exc, DigipersonaError) else repr(exc)
        return None, f"{type(exc).__name__}: {message}"
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
    slots = list(iter_slots(persona.slots, persona.timezone, now, now + timedelta(days=366)))
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


def run_rule(
    session: Session,
    settings: Settings,
    rule: GenerationRule,
    *,
    now: datetime | None = None,
    provider: GenerationProvider | None = None,
    source: str = "rule",
    dry_run: bool = False,
) -> AutopilotRun:
    """Run one rule now and record the run; sets the rule's next run.

    ``dry_run`` plans only: it returns an unsaved run describing what would be drafted and
    changes nothing.
    """
    now = now or utcnow()
    persona = session.get(Persona, rule.persona_id)
    if persona is None:  # pragma: no cover - the rule cascades with its persona
        raise NotFound("The rule's persona no longer exists.")
    plan = plan_rule(session, rule, persona, now)
    if dry_run:
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
    rule.last_run_at = now
    if not plan.plans:
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
    job = DraftJob(
        plans=plan.plans,
        platforms=list(rule.platforms),
        destination=rule.destination,
        brief=rule.brief,
    )
    outcome, error = _execute(session, settings, persona, job, now=now, provider=provider)
    if outcome is None:
        rule.failures += 1
        rule.next_run_at = _retry_at(settings, rule, persona, now)
        if rule.failures == 1:  # once per failure streak, not at every retry
            _notify_failure(session, persona, f"rule {rule.name or rule.rrule}", error)
        details = dict(plan.details)
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
    rule.topic_cursor, rule.structure_cursor = plan.details["cursors"]
    rule.next_run_at = planning.next_run_after(rule.rrule, persona.timezone, now)
    rule.timezone = persona.timezone
    details = dict(plan.details)
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
    session: Session,
    principal: Principal,
    settings: Settings,
    persona_id: uuid.UUID,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    provider: GenerationProvider | None = None,
) -> list[AutopilotRun]:
    """Run every enabled rule of a persona now (``digipersona autopilot run``); [] if none."""
    principal.require(Permission.drafts)
    persona = personas.get(session, principal, persona_id)
    rules = RuleRepository(session).for_persona(persona.workspace_id, persona.id)
    rules = [r for r in rules if r.enabled]
    return [
        run_rule(session, settings, r, now=now, provider=provider, source="manual", dry_run=dry_run)
        for r in rules
    ]


# -- events: feed items, webhooks, engagement --------------------------------------------------
def draft_for_event(
    session: Session,
    settings: Settings,
    trigger: Trigger,
    *,
    source: str,
    title: str,
    text: str,
    url: str | None,
    now: datetime | None = None,
    provider: GenerationProvider | None = None,
    extra: dict[str, Any] | None = None,
) -> AutopilotRun:
    """One draft commenting on an event (feed item, webhook payload, engagement), recorded."""
    now = now or utcnow()
    persona = session.get(Persona, trigger.persona_id)
    if persona is None:  # pragma: no cover - the trigger cascades with its persona
        raise NotFound("The trigger's persona no longer exists.")
    last_structure, _last_topic = QueueRepository(session).last_structure(persona.id)
    rotation = Rotation(
        topics=(),
        topic_cursor=0,
        structure_cursor=trigger.structure_cursor,
        last_topic=None,
        last_structure=last_structure,
    )
    plan = rotation.next()
    job = DraftJob(
        plans=[plan],
        platforms=list(trigger.platforms),
        destination=trigger.destination,
        brief=text.strip(),
        link_url=url,
        source_title=title.strip() or None,
    )
    details: dict[str, Any] = {"title": title[:500], "url": url, **(extra or {})}
    outcome, error = _execute(session, settings, persona, job, now=now, provider=provider)
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
    trigger.structure_cursor = rotation.structure_cursor
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


def webhook_trigger(
    session: Session, persona_id: uuid.UUID, trigger_id: uuid.UUID, token: str | None
) -> Trigger:
    """The webhook trigger a request names, if its token matches (404 unknown, 401 bad token)."""
    from digipersona.exceptions import Unauthorized

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
    if not trigger.enabled:
        raise Conflict("This webhook trigger is disabled; enable it to accept events.")
    return trigger


def fire_webhook(
    session: Session,
    settings: Settings,
    trigger: Trigger,
    *,
    title: str,
    text: str,
    url: str | None,
    event_id: str | None = None,
    now: datetime | None = None,
    provider: GenerationProvider | None = None,
) -> AutopilotRun:
    """Draft from a webhook event, once per event: senders retry, the persona should not repeat.

    An event is known by ``event_id`` (the ``Idempotency-Key`` header) or else by its URL; one
    already drafted from is recorded as a run that made nothing. A failed draft forgets the event,
    so the sender's retry drafts it.
    """
    now = now or utcnow()
    limit = settings.autopilot_webhook_events_per_hour
    if limit and RunRepository(session).count_since(trigger.id, now - timedelta(hours=1)) >= limit:
        raise TooManyRequests(
            f"This webhook trigger took {limit} events in the last hour "
            "(DIGIPERSONA_AUTOPILOT_WEBHOOK_EVENTS_PER_HOUR); send the next one later.",
            retry_after=3600,
        )
    identity = event_id or url
    seen: SeenFeedItem | None = None
    if identity:
        key = feeds.item_key(f"webhook:{identity}")
        persona = session.get(Persona, trigger.persona_id)
        assert persona is not None
        seen = SeenFeedItem(
            workspace_id=trigger.workspace_id,
            trigger_id=trigger.id,
            item_key=key,
            title=(title or text)[:500],
            link=url,
            seen_at=now,
        )
        duplicate = bool(FeedItemRepository(session).seen_keys(trigger.id, [key]))
        if not duplicate:
            savepoint = session.begin_nested()
            try:
                session.add(seen)
                session.flush()
            except IntegrityError:  # the same event, arriving twice at once
                savepoint.rollback()
                duplicate = True
            else:
                savepoint.commit()
        if duplicate:
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
    run = draft_for_event(
        session,
        settings,
        trigger,
        source="webhook",
        title=title,
        text=text,
        url=url,
        now=now,
        provider=provider,
    )
    if seen is not None:
        if run.status == RunStatus.failed.value:
            FeedItemRepository(session).delete(seen)
        else:
            seen.post_id = uuid.UUID(run.post_ids[0])
            session.flush()
    return run


def fire_engagement(
    session: Session,
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
    median engagement in analytics). ``reason`` says why (recorded with the run); ``text`` is
    what the follow-up should build on; ``url`` links the original. The caller's unit of work
    commits.
    """
    from digipersona.config import get_settings

    triggers = TriggerRepository(session).for_persona_any_workspace(
        persona_id, TriggerKind.engagement.value
    )
    trigger = next((t for t in triggers if t.enabled), None)
    if trigger is None:
        return None
    return draft_for_event(
        session,
        settings or get_settings(),
        trigger,
        source="engagement",
        title=reason,
        text=text,
        url=url,
        now=now,
        provider=provider,
        extra={"reason": reason},
    )


def fire_engagement_safely(
    session: Session,
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
    metrics sync): it runs in a savepoint, and a failure is logged and undone, never raised.

    A provider failure is already recorded as a failed run by ``draft_for_event``; this also
    covers the unexpected (a database error, a bug), which leaves no trace but the log.
    """
    try:
        with session.begin_nested():
            return fire_engagement(
                session,
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
                runs=RunRepository(session).recent(
                    principal.workspace_id, persona_id=persona.id, limit=runs
                )[0],
            )
        )
    return out


# -- feeds -------------------------------------------------------------------------------------
def poll_feed(
    session: Session,
    settings: Settings,
    http: httpx.Client,
    trigger: Trigger,
    *,
    now: datetime | None = None,
    provider: GenerationProvider | None = None,
) -> list[AutopilotRun]:
    """Fetch one feed and draft a comment on each new item (each item is used once).

    The first successful poll only marks the items already there as seen (a new feed is not
    news). Errors (unreachable, too slow, too big, malformed) are recorded as a failed run and
    create nothing. When a draft fails, the item stays unseen and the feed's validators are
    dropped, so the next poll fetches it again and retries.
    """
    now = now or utcnow()
    persona = session.get(Persona, trigger.persona_id)
    if persona is None:  # pragma: no cover - the trigger cascades with its persona
        raise NotFound("The trigger's persona no longer exists.")
    trigger.last_polled_at = now
    trigger.next_poll_at = now + timedelta(minutes=trigger.poll_minutes)
    try:
        result = feeds.fetch(
            http,
            trigger.feed_url or "",
            etag=trigger.etag,
            last_modified=trigger.last_modified,
            timeout=settings.autopilot_feed_timeout_seconds,
            max_bytes=settings.autopilot_feed_max_bytes,
            max_items=settings.autopilot_feed_max_items,
        )
    except feeds.FeedError as exc:
        trigger.failures += 1
        trigger.last_status = f"Error: {exc}"
        if trigger.failures == 1:
            _notify_failure(session, persona, f"feed {trigger.feed_url}", str(exc))
        run = _record(
            session,
            persona,
            source="feed",
            status=RunStatus.failed,
            now=now,
            trigger=trigger,
            error=str(exc),
            reason="Nothing was drafted from this feed; it is polled again at the next interval.",
            details={"feed_url": trigger.feed_url},
        )
        return [run]
    trigger.failures = 0
    if result.not_modified:
        trigger.last_status = "Not modified since the last poll (HTTP 304)."
        return []
    items = FeedItemRepository(session)
    seen = items.seen_keys(trigger.id, [e.key for e in result.entries])
    new: list[feeds.FeedEntry] = []
    for entry in result.entries:
        if entry.key not in seen:
            seen.add(entry.key)  # an item listed twice is still one item
            new.append(entry)
    trigger.etag, trigger.last_modified = result.etag, result.last_modified
    if not trigger.baseline_done:
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
                reason=f"First poll: the {len(new)} item(s) already in the feed are not news; "
                "items published from now on get drafts.",
                details={"feed_url": trigger.feed_url},
            )
        ]
    if not new:
        trigger.last_status = "No new items."
        return []
    limit = settings.autopilot_feed_drafts_per_poll
    runs = []
    for entry in new[:limit]:
        run = draft_for_event(
            session,
            settings,
            trigger,
            source="feed",
            title=entry.title,
            text=entry.summary,
            url=entry.link,
            now=now,
            provider=provider,
            extra={"feed_url": trigger.feed_url},
        )
        runs.append(run)
        if run.status == RunStatus.failed.value:
            # Retry these items next poll: forget the validators so a 304 cannot hide them.
            trigger.etag = trigger.last_modified = None
            trigger.last_status = f"Drafting failed: {run.error}"
            return runs
        _mark_seen(session, trigger, entry, now, uuid.UUID(run.post_ids[0]))
    for entry in new[limit:]:
        _mark_seen(session, trigger, entry, now)
    skipped = len(new) - min(len(new), limit)
    trigger.last_status = f"{min(len(new), limit)} new item(s) drafted" + (
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
