from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from digipersona.auth.schemas import Strict

Platform = Literal["linkedin", "x", "bluesky", "webhook"]
SuggestionKind = Literal["shorten", "punchier", "hook", "tone", "translate"]
PLATFORM_IDS = ("linkedin", "x", "bluesky", "webhook")


def _unique_platforms(value: list[str]) -> list[str]:
    seen: list[str] = []
    for platform in value:
        if platform not in seen:
            seen.append(platform)
    return seen


class GenerateIn(Strict):
    persona_id: uuid.UUID
    brief: str = Field(max_length=4000)
    platforms: list[Platform] = Field(min_length=1, max_length=4)
    count: int = Field(default=1, ge=1, le=5)
    seed: int | None = Field(default=None, ge=0, le=2**31)
    link_url: HttpUrl | None = None

    _platforms = field_validator("platforms")(_unique_platforms)

    @field_validator("brief")
    @classmethod
    def _brief(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the brief is empty: say what the post should be about")
        return value.strip()


class ContentCreate(Strict):
    persona_id: uuid.UUID
    body: str = Field(min_length=1, max_length=40000)
    platforms: list[Platform] = Field(min_length=1, max_length=4)
    brief: str = Field(default="", max_length=4000)
    tags: list[str] = Field(default_factory=list, max_length=20)
    link_url: HttpUrl | None = None
    linkedin_comment: str | None = Field(default=None, max_length=5000)
    thread_numbering: bool = False
    priority: int = Field(default=0, ge=-100, le=100)

    _platforms = field_validator("platforms")(_unique_platforms)


class ContentUpdate(Strict):
    body: str | None = Field(default=None, min_length=1, max_length=40000)
    platforms: list[Platform] | None = Field(default=None, min_length=1, max_length=4)
    brief: str | None = Field(default=None, max_length=4000)
    tags: list[str] | None = Field(default=None, max_length=20)
    link_url: HttpUrl | None = None
    linkedin_comment: str | None = Field(default=None, max_length=5000)
    thread_numbering: bool | None = None
    priority: int | None = Field(default=None, ge=-100, le=100)
    version: int | None = Field(default=None, ge=1)


class VariantPartsIn(Strict):
    parts: list[str] = Field(min_length=1, max_length=50)
    version: int | None = Field(default=None, ge=1)


class DecisionIn(Strict):
    version: int | None = Field(default=None, ge=1, description="Refuse if the post changed")
    comment: str | None = Field(default=None, max_length=2000)


class RejectIn(Strict):
    reason: str = Field(min_length=1, max_length=2000)
    version: int | None = Field(default=None, ge=1)

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("say why the post is rejected so the author can fix it")
        return value.strip()


class SuggestIn(Strict):
    kind: SuggestionKind
    tone: str | None = Field(default=None, max_length=100)
    language: str | None = Field(default=None, max_length=35)


class VariantOut(BaseModel):
    platform: str
    parts: list[str]
    lengths: list[Any]
    valid: bool
    problems: list[str]
    custom: bool = False


class MediaOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    filename: str
    mime_type: str
    size_bytes: int
    width: int
    height: int
    alt_text: str
    position: int


class PostOut(BaseModel):
    id: uuid.UUID
    persona_id: uuid.UUID
    status: str
    brief: str
    body: str
    platforms: list[str]
    tags: list[str]
    link_url: str | None
    linkedin_comment: str | None
    thread_numbering: bool
    priority: int
    rejection_reason: str | None
    version: int
    provider: str | None
    structure: str | None
    topic: str | None
    variants: list[VariantOut]
    media: list[MediaOut]
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    approved_at: datetime | None


class GenerateOut(BaseModel):
    items: list[PostOut]


class ContentList(BaseModel):
    items: list[PostOut]
    total: int
    limit: int
    offset: int


class SuggestionOut(BaseModel):
    kind: str
    text: str
    applied: bool = False
    variants: list[VariantOut]


class HistoryEvent(BaseModel):
    action: str
    at: datetime
    actor_user_id: uuid.UUID | None
    data: dict[str, Any]


PostStatusFilter = Literal[
    "draft",
    "in_review",
    "approved",
    "rejected",
    "scheduled",
    "published",
    "cancelled",
    "failed",
    "missed",
]
