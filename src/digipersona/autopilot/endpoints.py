"""JSON API of the autopilot: rules, triggers and runs of a persona, and the inbound webhook."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from sqlalchemy.orm import Session

from digipersona import db
from digipersona.auth.dependencies import Reader, SettingsDep, UnboundDrafter, Writer
from digipersona.autopilot import schemas, service
from digipersona.db import FactoryDep, SessionDep
from digipersona.kit.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, OffsetQuery
from digipersona.kit.time import utcnow
from digipersona.models import GenerationRule, Persona, Trigger

router = APIRouter(prefix="/api/v1/personas/{persona_id}", tags=["autopilot"])


def rule_out(session: Session, rule: GenerationRule) -> schemas.RuleOut:
    persona = session.get(Persona, rule.persona_id)
    assert persona is not None
    out = schemas.RuleOut.model_validate(rule)
    out.description = (
        f"{service.describe_schedule(rule, persona)}. Next: "
        f"{service.describe_next(session, rule, persona, utcnow())}"
    )
    return out


def webhook_path(trigger: Trigger) -> str | None:
    if trigger.kind != "webhook":
        return None
    return f"/api/v1/personas/{trigger.persona_id}/triggers/{trigger.id}"


def trigger_out(trigger: Trigger) -> schemas.TriggerOut:
    out = schemas.TriggerOut.model_validate(trigger)
    out.webhook_path = webhook_path(trigger)
    return out


# -- rules -------------------------------------------------------------------------------------
@router.get("/autopilot/rules", response_model=list[schemas.RuleOut])
def list_rules(
    persona_id: uuid.UUID, principal: Reader, session: SessionDep
) -> list[schemas.RuleOut]:
    """The persona's generation rules, each with what it does next in plain words."""
    return [rule_out(session, r) for r in service.list_rules(session, principal, persona_id)]


@router.post(
    "/autopilot/rules", status_code=status.HTTP_201_CREATED, response_model=schemas.RuleOut
)
def create_rule(
    persona_id: uuid.UUID, body: schemas.RuleCreate, principal: Writer, session: SessionDep
) -> schemas.RuleOut:
    """Add a generation rule (RRULE in the persona's time zone)."""
    return rule_out(session, service.create_rule(session, principal, persona_id, body))


@router.get("/autopilot/rules/{rule_id}", response_model=schemas.RuleOut)
def get_rule(
    persona_id: uuid.UUID, rule_id: uuid.UUID, principal: Reader, session: SessionDep
) -> schemas.RuleOut:
    """One generation rule."""
    return rule_out(session, service.get_rule(session, principal, persona_id, rule_id))


@router.patch("/autopilot/rules/{rule_id}", response_model=schemas.RuleOut)
def update_rule(
    persona_id: uuid.UUID,
    rule_id: uuid.UUID,
    body: schemas.RuleUpdate,
    principal: Writer,
    session: SessionDep,
) -> schemas.RuleOut:
    """Change a rule; a new RRULE (or re-enabling) recomputes its next run."""
    return rule_out(session, service.update_rule(session, principal, persona_id, rule_id, body))


@router.delete("/autopilot/rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_rule(
    persona_id: uuid.UUID, rule_id: uuid.UUID, principal: Writer, session: SessionDep
) -> None:
    """Remove a rule (its past runs stay)."""
    service.delete_rule(session, principal, persona_id, rule_id)


@router.post("/autopilot/run", response_model=list[schemas.RunOut])
def run_now(
    persona_id: uuid.UUID,
    principal: UnboundDrafter,
    factory: FactoryDep,
    settings: SettingsDep,
    dry_run: bool = Query(default=False, description="plan only: nothing is drafted or saved"),
) -> list[schemas.RunOut]:
    """Run every enabled rule of the persona now; ``dry_run`` shows what would be drafted.

    Holds no request session: each rule run keeps the database free while the model answers.
    """
    runs = service.run_persona_now(factory, principal, settings, persona_id, dry_run=dry_run)
    return [schemas.RunOut.model_validate(r) for r in runs]


# -- triggers ----------------------------------------------------------------------------------
@router.get("/autopilot/triggers", response_model=list[schemas.TriggerOut])
def list_triggers(
    persona_id: uuid.UUID, principal: Reader, session: SessionDep
) -> list[schemas.TriggerOut]:
    """The persona's feeds, webhooks and engagement trigger."""
    return [trigger_out(t) for t in service.list_triggers(session, principal, persona_id)]


@router.post(
    "/autopilot/triggers",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.TriggerCreated,
)
def create_trigger(
    persona_id: uuid.UUID,
    body: schemas.TriggerCreate,
    principal: Writer,
    session: SessionDep,
    settings: SettingsDep,
) -> schemas.TriggerCreated:
    """Add a trigger; a webhook's secret token is in this answer and never shown again."""
    created = service.create_trigger(session, principal, persona_id, body, settings=settings)
    out = schemas.TriggerCreated.model_validate(created.trigger)
    out.webhook_path = webhook_path(created.trigger)
    out.token = created.token
    return out


@router.get("/autopilot/triggers/{trigger_id}", response_model=schemas.TriggerOut)
def get_trigger(
    persona_id: uuid.UUID, trigger_id: uuid.UUID, principal: Reader, session: SessionDep
) -> schemas.TriggerOut:
    """One trigger (a webhook's token is never shown again)."""
    return trigger_out(service.get_trigger(session, principal, persona_id, trigger_id))


@router.post("/autopilot/triggers/{trigger_id}/token", response_model=schemas.TriggerCreated)
def rotate_token(
    persona_id: uuid.UUID, trigger_id: uuid.UUID, principal: Writer, session: SessionDep
) -> schemas.TriggerCreated:
    """A new secret token for a webhook trigger (shown this once); the old one stops working."""
    created = service.rotate_token(session, principal, persona_id, trigger_id)
    out = schemas.TriggerCreated.model_validate(created.trigger)
    out.webhook_path = webhook_path(created.trigger)
    out.token = created.token
    return out


@router.patch("/autopilot/triggers/{trigger_id}", response_model=schemas.TriggerOut)
def update_trigger(
    persona_id: uuid.UUID,
    trigger_id: uuid.UUID,
    body: schemas.TriggerUpdate,
    principal: Writer,
    session: SessionDep,
    settings: SettingsDep,
) -> schemas.TriggerOut:
    """Change a trigger."""
    return trigger_out(
        service.update_trigger(session, principal, persona_id, trigger_id, body, settings=settings)
    )


@router.delete("/autopilot/triggers/{trigger_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_trigger(
    persona_id: uuid.UUID, trigger_id: uuid.UUID, principal: Writer, session: SessionDep
) -> None:
    """Remove a trigger (its past runs stay)."""
    service.delete_trigger(session, principal, persona_id, trigger_id)


# -- runs --------------------------------------------------------------------------------------
@router.get("/autopilot/runs", response_model=schemas.RunList)
def list_runs(
    persona_id: uuid.UUID,
    principal: Reader,
    session: SessionDep,
    limit: LimitQuery = DEFAULT_LIMIT,
    offset: OffsetQuery = 0,
    cursor: CursorQuery = None,
) -> schemas.RunList:
    """Every run of the persona's rules and triggers, newest first; page with ``cursor``."""
    page = service.list_runs(
        session, principal, persona_id, limit=limit, offset=offset, cursor=cursor
    )
    return schemas.RunList(
        items=[schemas.RunOut.model_validate(r) for r in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
        next_cursor=page.next_cursor,
        prev_cursor=page.prev_cursor,
    )


# -- inbound webhook ---------------------------------------------------------------------------
def _token(request: Request) -> str | None:
    header = request.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-trigger-token") or None


def authenticated_trigger(
    persona_id: uuid.UUID, trigger_id: uuid.UUID, request: Request, factory: FactoryDep
) -> uuid.UUID:
    """The webhook trigger's id, checked before the body is even read (401 beats 422)."""
    with db.session_scope(factory) as session:
        return service.webhook_trigger(session, persona_id, trigger_id, _token(request)).id


@router.post(
    "/triggers/{trigger_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=schemas.RunOut,
)
def inbound_webhook(
    request: Request,
    body: schemas.WebhookIn,
    trigger_id: Annotated[uuid.UUID, Depends(authenticated_trigger)],
    factory: FactoryDep,
    settings: SettingsDep,
) -> schemas.RunOut:
    """Draft a post from an event (a release, a CMS publish), authenticated by the trigger token.

    Send ``Authorization: Bearer <token>`` (or ``X-Trigger-Token``) and a JSON body
    ``{"title": ..., "text": ..., "url": ...}``; the answer is the recorded run. Each event
    drafts once: a repeat (same ``Idempotency-Key`` header, or else same ``url``) makes nothing.
    Holds no request session: ``service.fire_webhook`` keeps the database free while the model
    answers.
    """
    run = service.fire_webhook(
        factory,
        settings,
        trigger_id,
        title=body.title,
        text=body.text,
        url=str(body.url) if body.url else None,
        event_id=(request.headers.get("idempotency-key") or "").strip()[:200] or None,
    )
    return schemas.RunOut.model_validate(run)
