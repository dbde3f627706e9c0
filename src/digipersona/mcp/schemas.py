"""Tool inputs: the REST API's request schemas, plus the ids a URL path carries there.

Each model subclasses (or repeats the bounds of) the schema the matching REST route validates
with, so a tool refuses exactly what the API refuses, with the same messages.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from digipersona.interactions import schemas as interactions
from digipersona.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from digipersona.kit.schemas import Strict
from digipersona.posts import schemas as posts
from digipersona.publishing import schemas as publishing

Limit = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"1 to {MAX_LIMIT}")
Cursor = Field(
    default=None, max_length=500, description="next_cursor of the previous page, for the next"
)


class NoInput(Strict):
    pass


class ListPersonasIn(Strict):
    q: str | None = Field(default=None, max_length=200, description="Part of the name")
    limit: int = Limit
    cursor: str | None = Cursor


class PersonaIdIn(Strict):
    persona_id: uuid.UUID


class ListConnectionsIn(Strict):
    persona_id: uuid.UUID | None = None
    platform: posts.Platform | None = None


class GenerateDraftsIn(posts.GenerateIn):
    pass


class CreateDraftIn(posts.ContentCreate):
    pass


class UpdateDraftIn(posts.ContentUpdate):
    post_id: uuid.UUID


class ListPostsIn(Strict):
    persona_id: uuid.UUID | None = None
    status: posts.PostStatusFilter | None = None
    platform: posts.Platform | None = None
    q: str | None = Field(default=None, max_length=200, description="Text in the body or brief")
    limit: int = Limit
    cursor: str | None = Cursor


class PostIdIn(Strict):
    post_id: uuid.UUID


class SubmitIn(posts.DecisionIn):
    post_id: uuid.UUID


class ApproveIn(posts.DecisionIn):
    post_id: uuid.UUID


class FreeSlotsIn(Strict):
    persona_id: uuid.UUID
    count: int = Field(default=5, ge=1, le=20, description="Slots per connection, 1 to 20")


class ScheduleIn(publishing.ScheduleIn):
    post_id: uuid.UUID


class QueueIn(Strict):
    start: datetime | None = Field(
        default=None, description="ISO-8601 with a UTC offset; default: now"
    )
    days: int = Field(default=14, ge=1, le=62, description="How many days from start, 1 to 62")
    persona_id: uuid.UUID | None = None
    tz: str = Field(default="UTC", max_length=64, description="IANA time zone for the days")


class ListInteractionsIn(Strict):
    persona_id: uuid.UUID | None = None
    platform: posts.Platform | None = None
    kind: interactions.Kind | None = None
    status: interactions.Status | None = None
    min_score: int | None = Field(default=None, ge=0, le=100)
    is_lead: bool | None = Field(default=None, description="true: only likely sales leads")
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = Field(default=None, min_length=1, max_length=200)
    limit: int = Limit
    cursor: str | None = Cursor


class DraftReplyIn(interactions.ReplyDraftIn):
    interaction_id: uuid.UUID


class ScoreLeadIn(interactions.ScoreIn):
    pass
