from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from digipersona.kit.pagination import PageInfo
from digipersona.kit.schemas import Strict

Kind = Literal["mention", "reply", "comment", "quote"]
Status = Literal["new", "read", "replied", "ignored"]


class ScoreIn(Strict):
    text: str = Field(min_length=1, max_length=10000)
    author_name: str | None = Field(default=None, max_length=200)
    author_bio: str | None = Field(default=None, max_length=2000)


class ScoreOut(BaseModel):
    score: int
    is_lead: bool
    reasons: list[str]


class InteractionOut(BaseModel):
    """One inbox item: what was said, by whom, where, its lead verdict and status."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    persona_id: uuid.UUID
    connection_id: uuid.UUID
    platform: str
    external_id: str
    kind: str
    text: str
    author_id: str
    author_handle: str
    author_name: str
    author_bio: str
    url: str | None
    platform_created_at: datetime | None
    received_at: datetime
    publication_id: uuid.UUID | None
    subject_external_id: str | None
    lead_score: int
    lead_reasons: list[str]
    is_lead: bool
    lead_label: bool | None = None
    status: str
    reply_post_id: uuid.UUID | None


class InteractionList(PageInfo):
    items: list[InteractionOut]


class LeadLabelIn(Strict):
    """The operator's verdict: true (a lead), false (not a lead) or null (forget the label)."""

    label: StrictBool | None


class BulkStatusIn(Strict):
    ids: list[uuid.UUID] = Field(min_length=1, max_length=500)
    status: Literal["new", "read", "ignored"]


class BulkStatusOut(BaseModel):
    updated: int
    status: str


class SourceOut(BaseModel):
    """What the inbox can read from one connection, and why not when it cannot."""

    connection_id: uuid.UUID
    persona_id: uuid.UUID
    platform: str
    handle: str
    supported: bool
    note: str
    unsupported_reason: str | None
    last_polled_at: datetime | None
    next_poll_at: datetime | None
    last_error: str | None


class ReplyDraftIn(Strict):
    """Exactly one of: a persona reply template, an AI draft, or your own text."""

    template_id: str | None = Field(default=None, min_length=1, max_length=100)
    ai: bool = False
    text: str | None = Field(default=None, min_length=1, max_length=3000)

    @model_validator(mode="after")
    def _one_source(self) -> ReplyDraftIn:
        given = sum([self.template_id is not None, self.ai, self.text is not None])
        if given != 1:
            raise ValueError("give exactly one of template_id, ai: true, or text")
        return self


class ReplyDraftOut(BaseModel):
    interaction_id: uuid.UUID
    post_id: uuid.UUID
    post_status: str
    text: str
    source: Literal["template", "ai", "text"]
    template_class: str | None
    auto_sent: bool
    publication_ids: list[str]
