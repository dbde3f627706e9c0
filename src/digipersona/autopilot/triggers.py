"""Triggers (a feed to watch, a webhook to call, engagement follow-ups): adding, changing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.autopilot import drafting, owned
from digipersona.autopilot.repository import TriggerRepository
from digipersona.autopilot.schemas import TriggerCreate, TriggerUpdate
from digipersona.config import Settings
from digipersona.exceptions import Conflict, ValidationFailed
from digipersona.kit import outbound
from digipersona.kit.security import new_token, token_hash
from digipersona.kit.time import utcnow
from digipersona.models import Trigger, TriggerKind
from digipersona.personas import service as personas

_NO_TRIGGER = "No such autopilot trigger for this persona."


@dataclass
class CreatedTrigger:
    trigger: Trigger
    token: str | None = None


def list_triggers(session: Session, principal: Principal, persona_id: uuid.UUID) -> list[Trigger]:
    return owned.list_of(session, principal, persona_id, TriggerRepository(session))


def get_trigger(
    session: Session, principal: Principal, persona_id: uuid.UUID, trigger_id: uuid.UUID
) -> Trigger:
    return owned.find(
        session, principal, persona_id, TriggerRepository(session), trigger_id, missing=_NO_TRIGGER
    )


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
    drafting.check_destination(persona, data.destination)
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
    drafting.check_destination(persona, changes.get("destination", trigger.destination))
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
    return owned.apply(session, trigger, changes)


def delete_trigger(
    session: Session, principal: Principal, persona_id: uuid.UUID, trigger_id: uuid.UUID
) -> None:
    owned.remove(
        session, principal, persona_id, TriggerRepository(session), trigger_id, missing=_NO_TRIGGER
    )
