"""Bulk import of drafts from CSV or JSON rows, and export of posts as CSV or JSON.

An import is checked whole before anything is written: every row is validated (its fields, its
persona) and the report names each row, field and problem. A dry run stops there; a real import
with any bad row writes nothing (all or nothing), else creates every row's draft in the
caller's one unit of work, flushing in batches of WRITE_BATCH: the posts, their variants and
one audit event per post are added without a query per row (one persona lookup for the whole
import; one INSERT per table and batch), so 10,000 rows take seconds, not minutes
(benchmarks/import_bench.py).
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from sqlalchemy.orm import Session

from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.exceptions import ValidationFailed
from digipersona.kit.schemas import Strict
from digipersona.models import Persona, Post
from digipersona.personas.repository import PersonaRepository
from digipersona.posts import service
from digipersona.posts.repository import PostRepository
from digipersona.posts.schemas import Platform

MAX_ROWS = 10_000
MAX_IMPORT_BYTES = 24_000_000  # an import request's body (the CSV text is at most 20 MB)
BATCH = 200  # the repository's largest page (export reads)
WRITE_BATCH = 1_000  # rows created per flush of an import
MAX_REPORTED = 200
EXPORT_FIELDS = (
    "id",
    "persona",
    "status",
    "text",
    "platforms",
    "brief",
    "tags",
    "priority",
    "link_url",
    "created_at",
)


class ImportRow(Strict):
    """One row: a draft for a persona (its name or id) on some platforms."""

    persona: str = Field(min_length=1, max_length=100, description="Persona name or id")
    platforms: list[Platform] = Field(min_length=1, max_length=4)
    # Per-platform text: {"x": "...", "linkedin": "..."} (or CSV columns text_x, text_linkedin).
    variants: dict[Platform, str] = Field(default_factory=dict, max_length=4)
    text: str = Field(default="", max_length=40000, validate_default=True)
    brief: str = Field(default="", max_length=4000)
    tags: list[str] = Field(default_factory=list, max_length=20)
    priority: int = Field(default=0, ge=-100, le=100)

    @field_validator("platforms", "tags", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        # A CSV cell lists them separated by commas or spaces: "x, bluesky".
        if isinstance(value, str):
            return [p for p in value.replace(",", " ").split() if p]
        return value

    @field_validator("platforms")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @field_validator("variants")
    @classmethod
    def _texts(cls, value: dict[str, str]) -> dict[str, str]:
        for platform, text in value.items():
            if not text.strip():
                raise ValueError(f"the {platform} text is empty")
            if len(text) > 40000:
                raise ValueError(f"the {platform} text is longer than 40000 characters")
        return value

    @model_validator(mode="before")
    @classmethod
    def _columns(cls, data: Any) -> Any:
        # CSV columns text_x, text_linkedin, ... become the variants object.
        if isinstance(data, dict) and any(str(k).startswith("text_") for k in data):
            data = dict(data)
            variants = dict(data.get("variants") or {})
            for key in [k for k in data if str(k).startswith("text_")]:
                variants[str(key).removeprefix("text_")] = data.pop(key)
            data["variants"] = variants
        return data

    @field_validator("text")
    @classmethod
    def _has_text(cls, value: str, info: ValidationInfo) -> str:
        # Validated after platforms and variants (field order): blank only if each has its own.
        if value.strip():
            return value
        variants = info.data.get("variants") or {}
        if not variants:
            raise ValueError("give a text, or a text for each platform (text_x, ...)")
        missing = [p for p in info.data.get("platforms") or [] if p not in variants]
        if missing:
            raise ValueError(
                "give a text, or a text for each platform (missing: " + ", ".join(missing) + ")"
            )
        return value

    @model_validator(mode="after")
    def _known_platforms(self) -> ImportRow:
        extra = [p for p in self.variants if p not in self.platforms]
        if extra:
            raise ValueError(
                "a text for a platform the row does not list: " + ", ".join(sorted(extra))
            )
        return self


@dataclass
class RowProblem:
    row: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    post_ids: list[uuid.UUID] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def parse_csv(text: str) -> list[dict[str, Any]]:
    """CSV with a header row (persona,text,platforms,...); empty cells are left out."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise ValidationFailed("The CSV has no header row: start with persona,text,platforms.")
    rows = []
    for i, raw in enumerate(reader):
        if i >= MAX_ROWS:
            raise ValidationFailed(f"At most {MAX_ROWS} rows per import.")
        if None in raw:
            raise ValidationFailed(f"Row {i + 1} has more cells than the header.")
        rows.append({k.strip(): v for k, v in raw.items() if k and v not in (None, "")})
    return rows


def parse_json(text: str) -> list[dict[str, Any]]:
    """A JSON array of row objects (or {"rows": [...]})."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValidationFailed(f"The file is not valid JSON: {exc}.") from None
    if isinstance(data, dict) and "rows" in data:
        data = data["rows"]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise ValidationFailed("Give a JSON array of rows, each an object.")
    if len(data) > MAX_ROWS:
        raise ValidationFailed(f"At most {MAX_ROWS} rows per import.")
    return data


def _personas(session: Session, workspace_id: uuid.UUID) -> dict[str, Persona]:
    """Every persona of the workspace by id and by lower-cased name (one query)."""
    found: dict[str, Persona] = {}
    for persona in PersonaRepository(session).all_in_workspace(workspace_id):
        found[str(persona.id)] = persona
        found.setdefault(persona.name.casefold(), persona)
    return found


def check(
    session: Session, principal: Principal, rows: Sequence[dict[str, Any]]
) -> tuple[list[tuple[ImportRow, Persona]], ImportReport]:
    """Validate every row; the report lists each problem by row (1-based) and field."""
    principal.require(Permission.drafts)
    if len(rows) > MAX_ROWS:
        raise ValidationFailed(f"At most {MAX_ROWS} rows per import.")
    personas = _personas(session, principal.workspace_id)
    report = ImportReport(rows=len(rows))
    valid: list[tuple[ImportRow, Persona]] = []
    for number, raw in enumerate(rows, start=1):
        try:
            row = ImportRow.model_validate(raw)
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(part) for part in error["loc"]) or "row"
                message = str(error["msg"]).removeprefix("Value error, ")
                report.problems.append(RowProblem(number, where, message))
            continue
        ref = row.persona.strip()
        persona = personas.get(ref) or personas.get(ref.casefold())
        if persona is None:
            report.problems.append(
                RowProblem(number, "persona", f"no persona named or with id {ref!r} here")
            )
            continue
        valid.append((row, persona))
    return valid, report


def import_rows(
    session: Session, principal: Principal, rows: Sequence[dict[str, Any]], *, dry_run: bool
) -> ImportReport:
    """Check, then (unless a dry run or any row is bad) create every row's draft."""
    valid, report = check(session, principal, rows)
    if dry_run:
        return report
    if not report.ok:
        raise ValidationFailed(
            f"{len(report.problems)} problem(s) in the rows: nothing was imported. "
            "Fix them (a dry run lists them all) and import again.",
            errors=[p.as_dict() for p in report.problems[:MAX_REPORTED]],
        )
    for start in range(0, len(valid), WRITE_BATCH):
        drafts = [
            service.DraftImport(
                persona=persona,
                body=row.text or next(iter(row.variants.values())),
                platforms=list(row.platforms),
                brief=row.brief,
                tags=row.tags,
                priority=row.priority,
                texts={str(k): v for k, v in row.variants.items()},
            )
            for row, persona in valid[start : start + WRITE_BATCH]
        ]
        posts = service.import_drafts(session, principal, drafts)
        session.flush()
        report.post_ids.extend(post.id for post in posts)
    report.created = len(report.post_ids)
    return report


def export_rows(session: Session, posts: Iterable[Post]) -> Iterator[dict[str, Any]]:
    """Posts as import-shaped rows (the persona by name), ready to be imported again."""
    names: dict[uuid.UUID, str] = {}
    for post in posts:
        if post.persona_id not in names:
            persona = session.get(Persona, post.persona_id)
            names[post.persona_id] = persona.name if persona else str(post.persona_id)
        yield {
            "id": str(post.id),
            "persona": names[post.persona_id],
            "status": post.status,
            "text": post.body,
            "platforms": list(post.platforms),
            "brief": post.brief,
            "tags": list(post.tags),
            "priority": post.priority,
            "link_url": post.link_url,
            "created_at": post.created_at.isoformat(),
        }


def matching_posts(
    session: Session,
    principal: Principal,
    *,
    status: str | None,
    persona_id: uuid.UUID | None,
    platform: str | None,
    q: str | None,
) -> Iterator[Post]:
    """Every post the list's filters match, newest first, read a page at a time."""
    principal.require(Permission.read)
    repo = PostRepository(session)
    cursor: str | None = None
    while True:
        page = repo.search(
            principal.workspace_id,
            status=status,
            persona_id=persona_id,
            platform=platform,
            q=q,
            limit=BATCH,
            offset=0,
            cursor=cursor,
        )
        yield from page.items
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def to_csv(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """CSV text, a header then one line per row; lists joined by spaces."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: " ".join(v) if isinstance(v, list) else ("" if v is None else v)
                for k, v in row.items()
            }
        )
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def to_json(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A JSON array, one row at a time."""
    yield "["
    for i, row in enumerate(rows):
        yield ("," if i else "") + json.dumps(row, ensure_ascii=False)
    yield "]"
