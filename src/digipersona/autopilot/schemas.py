"""Request and response bodies of the autopilot API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    field_validator,
    model_validator,
)

from digipersona.exceptions import DigipersonaError
from digipersona.kit.pagination import PageInfo
from digipersona.kit.schemas import Strict
from digipersona.posts.schemas import Platform, _unique_platforms
from digipersona.scheduling.rrules import validate_rrule

Topic = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Mode = Literal["fixed", "keep_full"]
DestinationName = Literal["review", "slots"]


def _check_rrule(value: str) -> str:
    try:
        return validate_rrule(value)
    except DigipersonaError as exc:  # pydantic reports ValueErrors per field
        raise ValueError(exc.message) from None


def _default_platforms() -> list[Platform]:
    return ["linkedin"]


def _unique_topics(value: list[str]) -> list[str]:
    out: list[str] = []
    for topic in value:
        if topic.lower() not in {t.lower() for t in out}:
            out.append(topic)
    return out


class RuleCreate(Strict):
    name: str = Field(default="", max_length=100)
    rrule: str = Field(
        min_length=1,
        max_length=500,
        description="RFC 5545 RRULE in the persona's time zone, e.g. "
        "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0",
    )
    mode: Mode = "fixed"
    count: int = Field(
        default=1,
        ge=1,
        le=20,
        description="fixed: drafts per run (at most 5); keep_full: posts to keep queued",
    )
    platforms: list[Platform] = Field(default_factory=_default_platforms, min_length=1)
    topics: list[Topic] = Field(default_factory=list, max_length=50)
    brief: str = Field(default="", max_length=4000)
    destination: DestinationName = "review"
    enabled: bool = True

    _platforms = field_validator("platforms")(_unique_platforms)
    _topics = field_validator("topics")(_unique_topics)
    _rrule = field_validator("rrule")(_check_rrule)


class RuleUpdate(Strict):
    name: str | None = Field(default=None, max_length=100)
    rrule: str | None = Field(default=None, min_length=1, max_length=500)
    mode: Mode | None = None
    count: int | None = Field(default=None, ge=1, le=20)
    platforms: list[Platform] | None = Field(default=None, min_length=1)
    topics: list[Topic] | None = Field(default=None, max_length=50)
    brief: str | None = Field(default=None, max_length=4000)
    destination: DestinationName | None = None
    enabled: bool | None = None

    @field_validator("rrule")
    @classmethod
    def _rrule(cls, value: str | None) -> str | None:
        return None if value is None else _check_rrule(value)

    @field_validator("platforms")
    @classmethod
    def _platforms(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _unique_platforms(value)

    @field_validator("topics")
    @classmethod
    def _topics(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _unique_topics(value)


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    persona_id: uuid.UUID
    name: str
    enabled: bool
    rrule: str
    mode: str
    count: int
    platforms: list[str]
    topics: list[str]
    brief: str
    destination: str
    next_run_at: datetime | None
    last_run_at: datetime | None
    failures: int
    created_at: datetime
    description: str = ""


class TriggerCreate(Strict):
    kind: Literal["feed", "webhook", "engagement"]
    name: str = Field(default="", max_length=100)
    platforms: list[Platform] = Field(default_factory=_default_platforms, min_length=1)
    destination: DestinationName = "review"
    enabled: bool = True
    feed_url: HttpUrl | None = Field(default=None, description="feeds only: RSS or Atom URL")
    poll_minutes: int = Field(default=30, ge=5, le=7 * 24 * 60)

    _platforms = field_validator("platforms")(_unique_platforms)


class TriggerUpdate(Strict):
    name: str | None = Field(default=None, max_length=100)
    platforms: list[Platform] | None = Field(default=None, min_length=1)
    destination: DestinationName | None = None
    enabled: bool | None = None
    feed_url: HttpUrl | None = None
    poll_minutes: int | None = Field(default=None, ge=5, le=7 * 24 * 60)

    @field_validator("platforms")
    @classmethod
    def _platforms(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _unique_platforms(value)


class TriggerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    persona_id: uuid.UUID
    kind: str
    name: str
    enabled: bool
    platforms: list[str]
    destination: str
    feed_url: str | None
    poll_minutes: int
    next_poll_at: datetime | None
    last_polled_at: datetime | None
    last_status: str | None
    failures: int
    token_hint: str | None
    created_at: datetime
    webhook_path: str | None = None


class TriggerCreated(TriggerOut):
    token: str | None = Field(
        default=None, description="webhooks only: the secret token, shown this once"
    )


class WebhookIn(Strict):
    title: str = Field(default="", max_length=500)
    text: str = Field(default="", max_length=4000)
    url: HttpUrl | None = None

    @model_validator(mode="after")
    def _something(self) -> WebhookIn:
        if not (self.title.strip() or self.text.strip()):
            raise ValueError("give a title or a text: the draft needs something to be about")
        return self


class RunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    persona_id: uuid.UUID
    rule_id: uuid.UUID | None
    trigger_id: uuid.UUID | None
    source: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    post_ids: list[str]
    reason: str | None
    error: str | None
    details: dict[str, Any]


class RunList(PageInfo):
    items: list[RunOut]
