from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from digipersona.exceptions import DigipersonaError
from digipersona.kit.pagination import PageInfo
from digipersona.kit.schemas import Strict
from digipersona.models.persona import DEFAULT_SLOTS
from digipersona.scheduling.rrules import validate_rrule
from digipersona.scheduling.slots import validate_timezone

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ExamplePost = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)
]
RRule = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Domain = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=253)]

LANGUAGE_RE = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")
HASHTAG_RE = re.compile(r"^#?[\w]{1,100}$", re.UNICODE)
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")
ApprovalPolicy = Literal["require_approval", "auto_approve"]
# What a persona sells; lead scoring weighs enquiries that fit it (``interactions.leads``).
Offering = Literal["consulting", "workshops", "saas", "course"]


def _check_timezone(value: str) -> str:
    try:
        return validate_timezone(value)
    except DigipersonaError as exc:  # pydantic reports ValueErrors per field
        raise ValueError(exc.message) from None


def _check_slots(value: list[str]) -> list[str]:
    if not value:
        raise ValueError("give at least one posting slot rule (RFC 5545 RRULE)")
    try:
        return [validate_rrule(rule) for rule in value]
    except DigipersonaError as exc:
        raise ValueError(exc.message) from None


def _check_language(value: str) -> str:
    if not LANGUAGE_RE.match(value):
        raise ValueError("use a language code such as 'en', 'de' or 'pt-BR'")
    return value


def _check_hashtags(value: list[str]) -> list[str]:
    out: list[str] = []
    for tag in value:
        if not HASHTAG_RE.match(tag):
            raise ValueError(
                f"{tag!r} is not a hashtag: letters, digits and _ only, e.g. '#devops'"
            )
        tag = tag if tag.startswith("#") else f"#{tag}"
        if tag.lower() not in {t.lower() for t in out}:
            out.append(tag)
    return out


def _check_domains(value: list[str]) -> list[str]:
    out = []
    for domain in value:
        domain = domain.lower().removeprefix("https://").removeprefix("http://").strip("/")
        if not DOMAIN_RE.match(domain):
            raise ValueError(f"{domain!r} is not a domain name such as 'example.com'")
        out.append(domain)
    return out


class PersonaFields(Strict):
    """Fields shared by create and update; validators run on both."""

    @field_validator("timezone", check_fields=False)
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else _check_timezone(value)

    @field_validator("slots", check_fields=False)
    @classmethod
    def _slots(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _check_slots(value)

    @field_validator("language", check_fields=False)
    @classmethod
    def _lang(cls, value: str | None) -> str | None:
        return None if value is None else _check_language(value)

    @field_validator("hashtags", check_fields=False)
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _check_hashtags(value)

    @field_validator("blocked_domains", check_fields=False)
    @classmethod
    def _domains(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _check_domains(value)


class ReplyTemplate(Strict):
    """One reply template; ``{author}``, ``{handle}`` and ``{persona}`` are filled in."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, serialize_by_alias=True, validate_by_name=True
    )

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$")
    template_class: str = Field(alias="class", min_length=1, max_length=50)
    text: str = Field(min_length=1, max_length=1250)


class ReplyTemplates(Strict):
    """Reply templates; replies of the ``auto_send_classes`` are sent without approval."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, serialize_by_alias=True)

    templates: list[ReplyTemplate] = Field(default_factory=list, max_length=50)
    auto_send_classes: list[str] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _consistent(self) -> ReplyTemplates:
        ids = [t.id for t in self.templates]
        if len(ids) != len(set(ids)):
            raise ValueError("reply template ids must be unique")
        unknown = set(self.auto_send_classes) - {t.template_class for t in self.templates}
        if unknown:
            raise ValueError(
                f"auto_send_classes names {', '.join(sorted(unknown))}, which no template has"
            )
        return self


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


# Overrides the workspace's AI model for this persona (same provider); blank: the workspace's.
AIModel = Annotated[Annotated[str, Field(max_length=200)] | None, BeforeValidator(_blank_is_none)]
# A persona's colour, "#rrggbb" (lower case); blank is none (the pages pick one from the name).
Colour = Annotated[
    Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$"), AfterValidator(str.lower)]
    | None,
    BeforeValidator(_blank_is_none),
]


class PersonaCreate(PersonaFields):
    name: str = Field(min_length=1, max_length=100)
    bio: str = Field(default="", max_length=2000)
    voice: str = Field(default="", max_length=2000)
    topics: list[ShortText] = Field(default_factory=list, max_length=50)
    audience: str = Field(default="", max_length=1000)
    language: str = Field(default="en", max_length=35)
    hashtags: list[str] = Field(default_factory=list, max_length=30)
    banned_phrases: list[Phrase] = Field(default_factory=list, max_length=200)
    example_posts: list[ExamplePost] = Field(default_factory=list, max_length=20)
    approval_policy: ApprovalPolicy = "require_approval"
    timezone: str = Field(default="UTC", max_length=64)
    slots: list[RRule] = Field(default_factory=lambda: list(DEFAULT_SLOTS), max_length=20)
    blocked_domains: list[Domain] = Field(default_factory=list, max_length=100)
    jitter_minutes: int = Field(default=0, ge=0, le=120)
    max_lateness_minutes: int = Field(default=360, ge=1, le=10080)
    reply_templates: ReplyTemplates = Field(default_factory=ReplyTemplates)
    require_alt_text: bool = Field(
        default=False, description="An image without alt text blocks review (else a warning)"
    )
    ai_model: AIModel = None
    colour: Colour = Field(default=None, description="#rrggbb, marks the persona on pages")
    offering: Annotated[Offering | None, BeforeValidator(_blank_is_none)] = None
    not_leads: list[Phrase] = Field(default_factory=list, max_length=100)


class PersonaUpdate(PersonaFields):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    bio: str | None = Field(default=None, max_length=2000)
    voice: str | None = Field(default=None, max_length=2000)
    topics: list[ShortText] | None = Field(default=None, max_length=50)
    audience: str | None = Field(default=None, max_length=1000)
    language: str | None = Field(default=None, max_length=35)
    hashtags: list[str] | None = Field(default=None, max_length=30)
    banned_phrases: list[Phrase] | None = Field(default=None, max_length=200)
    example_posts: list[ExamplePost] | None = Field(default=None, max_length=20)
    approval_policy: ApprovalPolicy | None = None
    timezone: str | None = Field(default=None, max_length=64)
    slots: list[RRule] | None = Field(default=None, max_length=20)
    blocked_domains: list[Domain] | None = Field(default=None, max_length=100)
    jitter_minutes: int | None = Field(default=None, ge=0, le=120)
    max_lateness_minutes: int | None = Field(default=None, ge=1, le=10080)
    reply_templates: ReplyTemplates | None = None
    require_alt_text: bool | None = None
    ai_model: AIModel = None
    colour: Colour = Field(default=None, description="#rrggbb, marks the persona on pages")
    offering: Annotated[Offering | None, BeforeValidator(_blank_is_none)] = None
    not_leads: list[Phrase] | None = Field(default=None, max_length=100)
    version: int | None = Field(default=None, ge=1, description="Optimistic concurrency check")


class PersonaOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    bio: str
    voice: str
    topics: list[str]
    audience: str
    language: str
    hashtags: list[str]
    banned_phrases: list[str]
    example_posts: list[str]
    approval_policy: ApprovalPolicy
    timezone: str
    slots: list[str]
    blocked_domains: list[str]
    jitter_minutes: int
    max_lateness_minutes: int
    reply_templates: dict[str, Any]
    require_alt_text: bool
    ai_model: str | None = None
    colour: str | None = None
    offering: str | None = None
    not_leads: list[str] = Field(default_factory=list)
    version: int
    created_at: datetime
    updated_at: datetime


class PersonaList(PageInfo):
    items: list[PersonaOut]
