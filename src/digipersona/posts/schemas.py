from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationInfo,
    field_validator,
    model_validator,
)

from digipersona.kit.pagination import PageInfo
from digipersona.kit.schemas import Strict

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


# What to send instead of null, for the fields of an edit that cannot be null.
NOT_NULL_HINTS = {
    "body": "a post needs a body",
    "platforms": "a post needs at least one platform",
    "brief": 'send "" to empty the brief',
    "tags": "send [] to remove every tag",
    "thread_numbering": "send true or false",
    "priority": "send 0 for the default priority",
}


def _drop_default(schema: dict[str, Any]) -> None:
    # An absent field leaves the value as it is; the schema must not suggest null is allowed.
    schema.pop("default", None)


def _unchanged_if_absent(**constraints: Any) -> Any:
    return Field(default=None, json_schema_extra=_drop_default, **constraints)


class ContentUpdate(Strict):
    """An edit: absent fields stay as they are.

    ``null`` clears ``link_url`` and ``linkedin_comment`` (optional by nature); every other
    field refuses ``null`` with a 422 (send ``""`` or ``[]`` to empty the brief or the tags).
    Repeated platforms count once, as on create.
    """

    # Absent fields hold None (never validated); read an edit with model_dump(exclude_unset=True).
    body: str = _unchanged_if_absent(min_length=1, max_length=40000)
    platforms: list[Platform] = _unchanged_if_absent(min_length=1, max_length=4)
    brief: str = _unchanged_if_absent(max_length=4000)
    tags: list[str] = _unchanged_if_absent(max_length=20)
    link_url: HttpUrl | None = Field(default=None, description="null removes the link")
    linkedin_comment: str | None = Field(
        default=None, max_length=5000, description="null removes the first comment"
    )
    thread_numbering: bool = _unchanged_if_absent()
    priority: int = _unchanged_if_absent(ge=-100, le=100)
    version: int | None = Field(
        default=None, ge=1, description="Refuse the edit if the post changed; null: no check"
    )

    @field_validator(*NOT_NULL_HINTS, mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            raise ValueError(f"cannot be null: {NOT_NULL_HINTS[str(info.field_name)]}")
        return value

    @field_validator("platforms")
    @classmethod
    def _platforms(cls, value: list[str]) -> list[str]:
        return _unique_platforms(value)


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
    warnings: list[str] = Field(
        default_factory=list, description="Worth fixing, not blocking review (e.g. alt text)"
    )
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


class ContentList(PageInfo):
    items: list[PostOut]


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


class MediaUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alt_text: str | None = Field(default=None, max_length=2000)
    position: int | None = Field(default=None, ge=0, le=100, description="0 is the first image")


class MediaReuse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    media_id: uuid.UUID = Field(description="An image of the workspace's media library")


class LibraryImageOut(BaseModel):
    media: MediaOut
    post_ids: list[uuid.UUID] = Field(description="The posts using it; empty when unused")


class ImportIn(Strict):
    """Rows as JSON objects, or the text of a CSV file with a header row; one of the two."""

    rows: list[dict[str, Any]] | None = Field(default=None, max_length=10_000)
    csv: str | None = Field(default=None, max_length=20_000_000)

    @model_validator(mode="after")
    def _one(self) -> ImportIn:
        if (self.rows is None) == (self.csv is None):
            raise ValueError("give either rows (a list of objects) or csv (the file's text)")
        return self


class RowProblemOut(BaseModel):
    row: int = Field(description="1-based, the header not counted")
    field: str
    message: str


class ImportOut(BaseModel):
    dry_run: bool
    rows: int
    valid: int
    created: int
    problems: list[RowProblemOut]
    post_ids: list[uuid.UUID]


class ReviewLinkIn(Strict):
    post_ids: list[uuid.UUID] = Field(min_length=1, max_length=50)
    name: str = Field(default="", max_length=100)
    expires_in_days: int = Field(default=7, ge=1, le=90)


class ReviewLinkOut(BaseModel):
    """A review link as listed: never its token (only its hash is kept)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    post_ids: list[uuid.UUID]
    expires_at: datetime
    created_at: datetime
    revoked_at: datetime | None


class ReviewLinkCreated(ReviewLinkOut):
    """The new link with its token and URL: shown this once, never again."""

    token: str
    url: str
