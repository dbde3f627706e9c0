"""Drafting for every kind of run: who acts, asking the AI provider, saving and routing the
drafts, recording the run.

The three steps of a run and why no transaction is open while the provider answers are in
``autopilot/service.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from digipersona.ai import service as ai_service
from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.autopilot.planning import PlannedDraft
from digipersona.autopilot.repository import QueueRepository, RunRepository
from digipersona.config import Settings
from digipersona.exceptions import DigipersonaError, NotFound, ValidationFailed
from digipersona.generation import Draft, DraftRequest, GenerationProvider, PersonaProfile
from digipersona.kit.time import ensure_utc, utcnow
from digipersona.models import (
    AutopilotRun,
    Destination,
    GenerationRule,
    Persona,
    Post,
    PostStatus,
    Role,
    RunStatus,
    Trigger,
)
from digipersona.notifications.service import notify
from digipersona.posts import service as posts
from digipersona.publishing import service as publishing

AUTOPILOT_PERMISSIONS = frozenset({Permission.read, Permission.drafts, Permission.publish})


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


def check_destination(persona: Persona, destination: str) -> None:
    """Drafts go straight into slots only for a persona that auto-approves (else a 422)."""
    if destination == Destination.slots.value and persona.approval_policy != "auto_approve":
        raise ValidationFailed(
            "Drafts can go straight into slots only for a persona that auto-approves: set the "
            "persona's approval policy to auto_approve, or use destination 'review'.",
            errors=[{"field": "destination", "message": "persona requires approval"}],
        )


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


def settle(session: Session, answers: Sequence[Answer | None]) -> None:
    """Drop the budget holds of answers in the unit of work that records their usage."""
    for answer in answers:
        if answer is not None:
            ai_service.settle(session, answer.held)


def ask(
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
    the workspace notified once a month). Callers ``settle`` the answer when they write."""
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
        return Answer([], describe_error(exc), held=held)


def describe_error(exc: Exception) -> str:
    message = exc.message if isinstance(exc, DigipersonaError) else repr(exc)
    return f"{type(exc).__name__}: {message}"


def record_run(
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


def save_drafts(
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
        return None, describe_error(exc)
    savepoint.commit()
    return outcome, None


def notify_failure(session: Session, persona: Persona, what: str, error: str | None) -> None:
    notify(
        session,
        workspace_id=persona.workspace_id,
        kind="autopilot.failed",
        title=f"{persona.name}: the autopilot could not draft ({what})",
        body=(error or "")[:500],
        data={"persona_id": str(persona.id)},
    )
