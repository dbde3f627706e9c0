"""Webhook triggers: checking the caller's token and drafting once per event."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from digipersona import db
from digipersona.autopilot import drafting, events, feeds
from digipersona.autopilot.repository import FeedItemRepository, RunRepository, TriggerRepository
from digipersona.config import Settings
from digipersona.exceptions import Conflict, NotFound, TooManyRequests, Unauthorized
from digipersona.generation import GenerationProvider
from digipersona.kit.security import constant_time_equals, token_hash
from digipersona.kit.time import ensure_utc, utcnow
from digipersona.models import AutopilotRun, Persona, RunStatus, SeenFeedItem, Trigger, TriggerKind

# A webhook event claimed but never finished (the process died while the provider answered)
# may be drafted again after this long; far above any provider timeout with its retries.
EVENT_CLAIM_TIMEOUT = timedelta(minutes=10)


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
        _check_rate(session, settings, trigger, now)
        identity = event_id or url
        key = feeds.item_key(f"webhook:{identity}") if identity else None
        if key is not None and not _claim_event(session, trigger, key, title or text, url, now):
            return drafting.record_run(
                session,
                persona,
                source="webhook",
                status=RunStatus.nothing,
                now=now,
                trigger=trigger,
                reason="This event was already drafted from (same Idempotency-Key or URL).",
                details={"title": title[:500], "url": url},
            )
        [event] = events.plan_events(
            session, settings, trigger, persona, [events.Event(title, text, url)]
        )
    answer = drafting.ask(factory, settings, event.profile, event.job, provider)
    with db.write_scope(factory) as session:
        drafting.settle(session, [answer])
        return _record_webhook_run(session, settings, trigger_id, key, event, answer, now)


def _check_rate(session: Session, settings: Settings, trigger: Trigger, now: datetime) -> None:
    """At most DIGIPERSONA_AUTOPILOT_WEBHOOK_EVENTS_PER_HOUR events per trigger (else a 429)."""
    limit = settings.autopilot_webhook_events_per_hour
    if limit and RunRepository(session).count_since(trigger.id, now - timedelta(hours=1)) >= limit:
        raise TooManyRequests(
            f"This webhook trigger took {limit} events in the last hour "
            "(DIGIPERSONA_AUTOPILOT_WEBHOOK_EVENTS_PER_HOUR); send the next one later.",
            retry_after=3600,
        )


def _record_webhook_run(
    session: Session,
    settings: Settings,
    trigger_id: uuid.UUID,
    key: str | None,
    event: events.EventDraft,
    answer: drafting.Answer,
    now: datetime,
) -> AutopilotRun:
    """The write step: record the run, and keep the event's claim only if it made a draft
    (a failed draft or a trigger gone meanwhile forgets it, so the sender's retry drafts it)."""
    persona = session.get(Persona, event.persona_id)
    if persona is None:
        raise NotFound("The trigger's persona no longer exists.")
    trigger = session.get(Trigger, trigger_id)
    items = FeedItemRepository(session)
    seen = items.get_key(trigger_id, key) if key is not None else None
    if trigger is None or not trigger.enabled:
        if seen is not None:
            items.delete(seen)
        return events.trigger_gone(session, trigger, persona, "webhook", now, event.details)
    run = events.record_event(
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
