from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from digipersona.kit.schemas import Strict


class ScheduleIn(Strict):
    at: datetime | None = Field(
        default=None, description="ISO-8601 with a UTC offset; omit to take the next free slot"
    )
    connection_ids: list[uuid.UUID] | None = Field(default=None, max_length=20)
    priority: int | None = Field(default=None, ge=-100, le=100)


class RescheduleIn(Strict):
    at: datetime


class PublicationOut(BaseModel):
    id: uuid.UUID
    post_id: uuid.UUID
    connection_id: uuid.UUID
    platform: str
    scheduled_at: str
    slot_at: str | None
    state: str
    attempts: int
    next_attempt_at: str
    external_id: str | None
    external_url: str | None
    last_error: str | None
    error_class: str | None
    errors: list[Any]
    published_at: str | None


class TargetOut(BaseModel):
    platform: str
    state: str = Field(
        description="The publication's state, or not_connected (no active connection: skipped) "
        "or not_scheduled"
    )
    publication_id: uuid.UUID | None


class ScheduleOut(BaseModel):
    post_id: uuid.UUID
    status: str
    publications: list[PublicationOut]
    unconnected_targets: list[str] = Field(
        description="Target platforms no publication covers: the persona has no active "
        "connection there, so publishing skips them"
    )
    targets: list[TargetOut]


class CalendarEntry(BaseModel):
    """A publication as the calendar shows it (its errors are on the post's schedule)."""

    id: uuid.UUID
    post_id: uuid.UUID
    connection_id: uuid.UUID
    date: str = Field(description="The local day (in the answer's time zone) it falls on")
    platform: str
    scheduled_at: str
    slot_at: str | None
    state: str
    attempts: int
    next_attempt_at: str
    external_id: str | None
    external_url: str | None
    error_class: str | None
    published_at: str | None
    persona_id: uuid.UUID
    persona_name: str
    title: str
    post_status: str


class CalendarDay(BaseModel):
    date: str
    count: int = Field(description="Entries of the day; the first `per_day` are in `items`")
    next_cursor: str | None = Field(
        description="Read the rest of the day from GET /api/v1/calendar/day with this cursor"
    )


class CalendarOut(BaseModel):
    start: str
    end: str
    tz: str
    per_day: int
    days: list[CalendarDay]
    items: list[CalendarEntry]


class CalendarDayOut(BaseModel):
    date: str
    tz: str
    count: int
    items: list[CalendarEntry]
    next_cursor: str | None


class FeedOut(BaseModel):
    url: str


class JobsOut(BaseModel):
    by_state: dict[str, int]
    due_now: int
    oldest_due_at: str | None
    failures_by_class: dict[str, int]
    # Live processes (``alive``), then the latest that stopped within a day, each with
    # ``age_seconds`` since its last beat; ``processes_not_shown`` counts the other stopped ones.
    heartbeats: list[dict[str, Any]]
    processes_not_shown: int
    scheduler_healthy: bool
