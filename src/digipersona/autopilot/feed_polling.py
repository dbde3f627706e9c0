"""Feed triggers: polling a feed and drafting a comment on each new item."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.orm import Session, sessionmaker

from digipersona import db
from digipersona.autopilot import drafting, feeds
from digipersona.autopilot.events import Event, EventDraft, plan_events, record_event, trigger_gone
from digipersona.autopilot.repository import FeedItemRepository
from digipersona.config import Settings
from digipersona.generation import GenerationProvider
from digipersona.kit import outbound
from digipersona.kit.time import utcnow
from digipersona.models import AutopilotRun, Persona, RunStatus, SeenFeedItem, Trigger


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
        source = _feed_source(session, trigger_id)
    if source is None:
        return None
    result = _fetch(http, settings, source)
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
        new = [] if result.not_modified else _new_entries(session, trigger, result)
        if result.not_modified or not trigger.baseline_done or not new:
            return _settle_without_drafts(session, trigger, persona, result, new, now)
        events = plan_events(
            session,
            settings,
            trigger,
            persona,
            [
                Event(e.title, e.summary, e.link)
                for e in new[: settings.autopilot_feed_drafts_per_poll]
            ],
            extra={"feed_url": trigger.feed_url},
        )
    answers = _ask_in_turn(factory, settings, events, provider)
    with db.write_scope(factory) as session:
        drafting.settle(session, answers)
        return _record_feed_drafts(session, settings, trigger_id, result, new, events, answers, now)


@dataclass(frozen=True)
class _FeedSource:
    url: str
    etag: str | None
    last_modified: str | None


def _feed_source(session: Session, trigger_id: uuid.UUID) -> _FeedSource | None:
    """Where to fetch the feed and its validators; None if the trigger is gone or disabled."""
    trigger = session.get(Trigger, trigger_id)
    if trigger is None or not trigger.enabled:
        return None
    return _FeedSource(trigger.feed_url or "", trigger.etag, trigger.last_modified)


def _fetch(
    http: httpx.Client, settings: Settings, source: _FeedSource
) -> feeds.FeedResult | feeds.FeedError:
    """The feed, or why it could not be read (no database session is open meanwhile)."""
    try:
        return feeds.fetch(
            # The URL is a member's choice: only the outbound guard's client may fetch it.
            outbound.guarded(http, settings, timeout=settings.autopilot_feed_timeout_seconds),
            source.url,
            etag=source.etag,
            last_modified=source.last_modified,
            timeout=settings.autopilot_feed_timeout_seconds,
            max_bytes=settings.autopilot_feed_max_bytes,
            max_items=settings.autopilot_feed_max_items,
        )
    except feeds.FeedError as exc:
        return exc


def _settle_without_drafts(
    session: Session,
    trigger: Trigger,
    persona: Persona,
    result: feeds.FeedResult,
    new: list[feeds.FeedEntry],
    now: datetime,
) -> list[AutopilotRun]:
    """A poll that drafts nothing: the feed is unchanged, polled the first time, or has no news."""
    if result.not_modified:
        trigger.last_status = "Not modified since the last poll (HTTP 304)."
        return []
    trigger.etag, trigger.last_modified = result.etag, result.last_modified
    if trigger.baseline_done:
        trigger.last_status = "No new items."
        return []
    trigger.baseline_done = True
    for entry in new:
        _mark_seen(session, trigger, entry, now)
    trigger.last_status = f"First poll: {len(new)} existing item(s) marked as seen."
    return [
        drafting.record_run(
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


def _ask_in_turn(
    factory: sessionmaker[Session],
    settings: Settings,
    events: list[EventDraft],
    provider: GenerationProvider | None,
) -> list[drafting.Answer]:
    """The provider's answer for each item in order, up to the first failure (the items after
    it are retried with it at the next poll)."""
    answers: list[drafting.Answer] = []
    for event in events:
        answers.append(drafting.ask(factory, settings, event.profile, event.job, provider))
        if answers[-1].error is not None:
            break
    return answers


def _feed_failed(
    session: Session, trigger: Trigger, persona: Persona, error: str, now: datetime
) -> AutopilotRun:
    trigger.failures += 1
    trigger.last_status = f"Error: {error}"
    if trigger.failures == 1:
        drafting.notify_failure(session, persona, f"feed {trigger.feed_url}", error)
    return drafting.record_run(
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
    answers: list[drafting.Answer],
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
        return [trigger_gone(session, trigger, persona, "feed", now, details)]
    runs = []
    for entry, event, answer in zip(new, events, answers, strict=False):
        run = record_event(
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
