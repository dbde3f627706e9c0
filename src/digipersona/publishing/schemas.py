from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

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


class ScheduleOut(BaseModel):
    post_id: uuid.UUID
    status: str
    publications: list[PublicationOut]


class CalendarEntry(PublicationOut):
    persona_id: uuid.UUID
    persona_name: str
    title: str
    post_status: str


class CalendarOut(BaseModel):
    start: str
    end: str
    items: list[CalendarEntry]


class FeedOut(BaseModel):
    url: str


class JobsOut(BaseModel):
    by_state: dict[str, int]
    due_now: int
    oldest_due_at: str | None
    failures_by_class: dict[str, int]
    heartbeats: list[dict[str, Any]]
    scheduler_healthy: bool


class CalendarQuery(Strict):
    start: AwareDatetime
    end: AwareDatetime
