from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Response, status

from digipersona.auth.dependencies import Publisher, Reader, SettingsDep
from digipersona.db import SessionDep
from digipersona.exceptions import ValidationFailed
from digipersona.kit.schemas import Instant
from digipersona.kit.time import isoformat_z, utcnow
from digipersona.models import Publication
from digipersona.publishing import calendar, schemas, service
from digipersona.scheduling.slots import validate_timezone

router = APIRouter(prefix="/api/v1", tags=["publishing"])
feed_router = APIRouter(tags=["publishing"])


def publication_out(p: Publication) -> schemas.PublicationOut:
    return schemas.PublicationOut(
        id=p.id,
        post_id=p.post_id,
        connection_id=p.connection_id,
        platform=p.platform,
        scheduled_at=isoformat_z(p.scheduled_at),
        slot_at=isoformat_z(p.slot_at) if p.slot_at else None,
        state=p.state,
        attempts=p.attempts,
        next_attempt_at=isoformat_z(p.next_attempt_at),
        external_id=p.external_id,
        external_url=p.external_url,
        last_error=p.last_error,
        error_class=p.error_class,
        errors=list(p.errors),
        published_at=isoformat_z(p.published_at) if p.published_at else None,
    )


def _schedule_out(session: SessionDep, post_id: uuid.UUID) -> schemas.ScheduleOut:
    post = service.post_by_id(session, post_id)
    targets = service.target_states(session, post)
    return schemas.ScheduleOut(
        post_id=post.id,
        status=post.status,
        publications=[publication_out(p) for p in service.publications_of(session, post)],
        unconnected_targets=[t.platform for t in targets if t.state == "not_connected"],
        targets=[
            schemas.TargetOut(
                platform=t.platform,
                state=t.state,
                publication_id=t.publication.id if t.publication else None,
            )
            for t in targets
        ],
    )


@router.post("/content/{post_id}/schedule", response_model=schemas.ScheduleOut)
def schedule(
    post_id: uuid.UUID,
    principal: Publisher,
    session: SessionDep,
    settings: SettingsDep,
    body: schemas.ScheduleIn | None = None,
) -> schemas.ScheduleOut:
    """Schedule an approved post: at a time, or into each connection's next free slot."""
    body = body or schemas.ScheduleIn()
    service.schedule(
        session,
        principal,
        settings,
        post_id,
        at=body.at,
        connection_ids=body.connection_ids,
        priority=body.priority,
    )
    return _schedule_out(session, post_id)


@router.get("/content/{post_id}/schedule", response_model=schemas.ScheduleOut)
def get_schedule(post_id: uuid.UUID, principal: Reader, session: SessionDep) -> schemas.ScheduleOut:
    """The post's publications with their state, attempts and errors."""
    service._post(session, principal, post_id)
    return _schedule_out(session, post_id)


@router.patch("/content/{post_id}/schedule", response_model=schemas.ScheduleOut)
def reschedule(
    post_id: uuid.UUID,
    body: schemas.RescheduleIn,
    principal: Publisher,
    session: SessionDep,
    settings: SettingsDep,
) -> schemas.ScheduleOut:
    """Move the post's pending publications to another time."""
    service.reschedule(session, principal, settings, post_id, at=body.at)
    return _schedule_out(session, post_id)


@router.delete("/content/{post_id}/schedule", response_model=schemas.ScheduleOut)
def unschedule(
    post_id: uuid.UUID, principal: Publisher, session: SessionDep
) -> schemas.ScheduleOut:
    """Take the post out of the queue; it stays approved."""
    service.unschedule(session, principal, post_id)
    return _schedule_out(session, post_id)


@router.post("/content/{post_id}/cancel", response_model=schemas.ScheduleOut)
def cancel(post_id: uuid.UUID, principal: Publisher, session: SessionDep) -> schemas.ScheduleOut:
    """Cancel the post and its pending publications."""
    service.unschedule(session, principal, post_id, cancel_post=True)
    return _schedule_out(session, post_id)


@router.post("/publications/{publication_id}/retry", response_model=schemas.PublicationOut)
def retry(
    publication_id: uuid.UUID, principal: Publisher, session: SessionDep
) -> schemas.PublicationOut:
    """Send a failed, missed or held publication again now."""
    return publication_out(service.retry(session, principal, publication_id))


def _entry_out(entry: calendar.Entry, tz: ZoneInfo) -> schemas.CalendarEntry:
    return schemas.CalendarEntry(
        id=entry.id,
        post_id=entry.post_id,
        connection_id=entry.connection_id,
        date=entry.scheduled_at.astimezone(tz).date().isoformat(),
        platform=entry.platform,
        scheduled_at=isoformat_z(entry.scheduled_at),
        slot_at=isoformat_z(entry.slot_at) if entry.slot_at else None,
        state=entry.state,
        attempts=entry.attempts,
        next_attempt_at=isoformat_z(entry.next_attempt_at),
        external_id=entry.external_id,
        external_url=entry.external_url,
        error_class=entry.error_class,
        published_at=isoformat_z(entry.published_at) if entry.published_at else None,
        persona_id=entry.persona_id,
        persona_name=entry.persona_name,
        title=entry.title,
        post_status=entry.post_status,
    )


TzQuery = Annotated[
    str, Query(max_length=64, description="IANA time zone that cuts the range into days")
]
StateQuery = Annotated[
    str | None, Query(max_length=20, description="Only publications in this state")
]


@router.get("/calendar", response_model=schemas.CalendarOut)
def get_calendar(
    principal: Reader,
    session: SessionDep,
    start: Annotated[Instant, Query(description="ISO-8601 with offset")],
    end: Annotated[
        Instant,
        Query(description=f"ISO-8601 with offset; at most {calendar.MAX_DAYS} days after start"),
    ],
    persona_id: uuid.UUID | None = None,
    tz: TzQuery = "UTC",
    state: StateQuery = None,
    per_day: int = Query(
        3,
        ge=1,
        le=calendar.MAX_PER_DAY,
        description="Entries listed per day (the rest: /calendar/day)",
    ),
) -> schemas.CalendarOut:
    """Per-day counts of the publications in [start, end) and the first `per_day` of each day."""
    for name, value in (("start", start), ("end", end)):
        if value.tzinfo is None:
            raise ValidationFailed(f"'{name}' needs a UTC offset, e.g. 2026-11-01T00:00:00Z.")
    zone = ZoneInfo(validate_timezone(tz))
    days = calendar.overview(
        session,
        principal.workspace_id,
        start,
        end,
        zone,
        per_day=per_day,
        persona_id=persona_id,
        state=state,
    )
    return schemas.CalendarOut(
        start=isoformat_z(start),
        end=isoformat_z(end),
        tz=tz,
        per_day=per_day,
        days=[
            schemas.CalendarDay(date=d.date.isoformat(), count=d.count, next_cursor=d.next_cursor)
            for d in days
        ],
        items=[_entry_out(e, zone) for d in days for e in d.entries],
    )


@router.get("/calendar/day", response_model=schemas.CalendarDayOut)
def get_calendar_day(
    principal: Reader,
    session: SessionDep,
    date: dt.date = Query(..., description="The local day, YYYY-MM-DD"),
    tz: TzQuery = "UTC",
    persona_id: uuid.UUID | None = None,
    state: StateQuery = None,
    limit: int = Query(calendar.DAY_PAGE, ge=1, le=calendar.MAX_PER_DAY * 4),
    cursor: str | None = Query(
        None, max_length=200, description="`next_cursor` of a previous answer"
    ),
) -> schemas.CalendarDayOut:
    """One page of one day's publications, in time order."""
    zone = ZoneInfo(validate_timezone(tz))
    day, next_cursor = calendar.day_page(
        session,
        principal.workspace_id,
        date,
        zone,
        limit=limit,
        cursor=cursor,
        persona_id=persona_id,
        state=state,
    )
    return schemas.CalendarDayOut(
        date=date.isoformat(),
        tz=tz,
        count=day.count,
        items=[_entry_out(e, zone) for e in day.entries],
        next_cursor=next_cursor,
    )


@router.post("/calendar/feed", response_model=schemas.FeedOut)
def rotate_feed(
    principal: Publisher, session: SessionDep, settings: SettingsDep
) -> schemas.FeedOut:
    """Create (or replace) the workspace's secret iCalendar feed URL."""
    return schemas.FeedOut(url=calendar.rotate_feed(session, principal, settings.public_base_url))


@router.delete("/calendar/feed", status_code=status.HTTP_204_NO_CONTENT)
def revoke_feed(principal: Publisher, session: SessionDep) -> None:
    """Turn the iCalendar feed off."""
    calendar.revoke_feed(session, principal)


@router.get("/jobs", response_model=schemas.JobsOut)
def jobs(principal: Reader, session: SessionDep, settings: SettingsDep) -> schemas.JobsOut:
    """Queue depth by state, oldest due, failures by class, worker and scheduler heartbeats."""
    return schemas.JobsOut(
        **calendar.jobs_summary(
            session, principal.workspace_id, utcnow(), settings.scheduler_stale_seconds
        )
    )


@feed_router.get("/ical/{token}.ics", include_in_schema=False)
def ical_feed(token: str, session: SessionDep) -> Response:
    """The workspace calendar for calendar apps (the secret is the URL)."""
    return Response(calendar.feed(session, token, utcnow()), media_type="text/calendar")
