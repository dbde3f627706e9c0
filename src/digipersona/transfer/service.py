"""Whole-workspace export and import as versioned JSON (`export`, `import-workspace`).

What a file holds, in this order (each row's own columns, oldest first): personas, connections
(their account and settings, never their tokens), autopilot rules, autopilot triggers (never the
webhook token's hash), posts, variants, publications (with their platform links), metric
snapshots and interactions. Never exported: credentials of any kind (platform tokens, API
tokens, webhook tokens), users and memberships (people re-join the new workspace; a row's
"created by" is left empty), uploaded images, and what the product rebuilds or owns at run time
(analytics day summaries, which the import rebuilds; metrics and polling schedules; leases).

Ids: an import gives every row a new id and rewrites the references (a workspace can be copied
within one installation). Exporting an imported workspace therefore gives the same file except
for the ids, and for each connection's state: an imported connection has no tokens, so it is
stored as ``needs_reconnect`` until someone connects the account again.

Layout: one JSON object, each row on its own line, so that a reader streams it a line at a time
(memory is one row, plus the id map, not the file); a file reformatted by another tool is still
read whole when it is small enough.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from sqlalchemy.orm import Session

from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.exceptions import Conflict, ValidationFailed
from digipersona.kit.time import utcnow
from digipersona.models import (
    Base,
    Connection,
    ConnectionState,
    GenerationRule,
    Interaction,
    MetricSnapshot,
    Persona,
    Post,
    Publication,
    Trigger,
    Variant,
    Workspace,
)
from digipersona.publishing import summary
from digipersona.transfer import repository

FORMAT_VERSION = 1
PAGE = 1_000
# A file that is not in the line layout is parsed whole only up to this size.
MAX_WHOLE_BYTES = 100_000_000
SECTIONS: tuple[tuple[str, type[Base]], ...] = (
    ("personas", Persona),
    ("connections", Connection),
    ("autopilot_rules", GenerationRule),
    ("autopilot_triggers", Trigger),
    ("posts", Post),
    ("variants", Variant),
    ("publications", Publication),
    ("metric_snapshots", MetricSnapshot),
    ("interactions", Interaction),
)
# Columns never written to a file: credentials, and what only a running installation means.
LEFT_OUT: dict[str, frozenset[str]] = {
    "connections": frozenset({"access_token_enc", "refresh_token_enc", "token_version"}),
    "autopilot_triggers": frozenset({"token_hash", "token_hint"}),
    "publications": frozenset({"idempotency_key", "lease_owner", "lease_expires_at"}),
}
# The sections other rows refer to (the import keeps their id map; the others' ids are just new).
REFERENCED = frozenset({"personas", "connections", "posts", "publications"})
EXPORTED_TABLES = {repository.table_of(model).name for _, model in SECTIONS}


def _exported_columns(name: str, model: type[Base]) -> list[repository.ColumnInfo]:
    """The columns a file carries for a section (ids and in-file references included)."""
    return [
        c
        for c in repository.columns(model)
        if c.name not in LEFT_OUT.get(name, frozenset())
        and c.name != "workspace_id"
        and (c.target is None or c.target in EXPORTED_TABLES)
    ]


def _plain(value: Any, python_type: type | None = None) -> Any:
    if python_type is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)  # SQLite hands a NUMERIC column's 0 back as an integer
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


# -- export ---------------------------------------------------------------------------------------
def export_lines(session: Session, principal: Principal, workspace: Workspace) -> Iterator[str]:
    """The workspace as the lines of one JSON document (see the module's docstring)."""
    principal.require(Permission.admin)
    header = {
        "format_version": FORMAT_VERSION,
        "exported_at": utcnow().isoformat(),
        "workspace": {"name": workspace.name},
    }
    yield json.dumps(header, ensure_ascii=False)[:-1] + ",\n"
    for index, (name, model) in enumerate(SECTIONS):
        keep = {c.name: c.python_type for c in _exported_columns(name, model)}
        yield f"{json.dumps(name)}: [\n"
        first = True
        for row in repository.rows_in_pages(session, model, workspace.id, page=PAGE):
            line = json.dumps({k: _plain(row[k], t) for k, t in keep.items()}, ensure_ascii=False)
            yield ("" if first else ",\n") + line
            first = False
        yield ("" if first else "\n") + ("]\n" if index == len(SECTIONS) - 1 else "],\n")
    yield "}\n"


def export_to(out: IO[str], session: Session, principal: Principal, workspace: Workspace) -> None:
    for chunk in export_lines(session, principal, workspace):
        out.write(chunk)


# -- reading a file -------------------------------------------------------------------------------
class _Lines:
    def __init__(self, source: IO[str]) -> None:
        self.source = source
        self.number = 0

    def next(self) -> str:
        line = self.source.readline()
        self.number += 1
        if not line:
            raise ValidationFailed(f"Line {self.number}: the file ends too early.")
        return line.strip()


def read_document(source: IO[str]) -> tuple[dict[str, Any], Iterator[tuple[str, dict[str, Any]]]]:
    """The header and the (section, row) pairs, a line at a time (the layout ``export`` writes);
    any other layout is parsed whole when the file is small enough."""
    lines = _Lines(source)
    try:
        first = lines.next()
        if not first.endswith(","):
            raise ValueError("not the line layout")
        header = json.loads(first[:-1] + "}")
    except ValueError:
        return _whole(source)
    _check_header(header)
    return header, _stream(lines)


def _stream(lines: _Lines) -> Iterator[tuple[str, dict[str, Any]]]:
    for index, (name, _) in enumerate(SECTIONS):
        opening = lines.next()
        if opening != f"{json.dumps(name)}: [":
            raise ValidationFailed(
                f"Line {lines.number}: expected the {name!r} section; the file is not an "
                "unchanged digipersona export."
            )
        closing = "]" if index == len(SECTIONS) - 1 else "],"
        while True:
            line = lines.next()
            if line == closing:
                break
            try:
                row = json.loads(line.removesuffix(","))
            except ValueError as exc:
                raise ValidationFailed(f"Line {lines.number}: not valid JSON ({exc}).") from None
            if not isinstance(row, dict):
                raise ValidationFailed(f"Line {lines.number}: a {name} row is not an object.")
            yield name, row
    if lines.next() != "}":
        raise ValidationFailed(f"Line {lines.number}: expected the end of the file.")


def _whole(source: IO[str]) -> tuple[dict[str, Any], Iterator[tuple[str, dict[str, Any]]]]:
    source.seek(0)
    text = source.read(MAX_WHOLE_BYTES + 1)
    if len(text) > MAX_WHOLE_BYTES:
        raise ValidationFailed(
            "The file is not in the layout `digipersona export` writes and is too large to "
            "read whole: export it again."
        )
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValidationFailed(f"The file is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise ValidationFailed("The file is not a digipersona workspace export.")
    _check_header(data)

    def rows() -> Iterator[tuple[str, dict[str, Any]]]:
        for name, _ in SECTIONS:
            section = data.get(name, [])
            if not isinstance(section, list) or not all(isinstance(r, dict) for r in section):
                raise ValidationFailed(f"The {name!r} section is not a list of objects.")
            for row in section:
                yield name, row

    return data, rows()


def _check_header(header: Any) -> None:
    if not isinstance(header, dict) or "format_version" not in header:
        raise ValidationFailed(
            "The file is not a digipersona workspace export (no format_version)."
        )
    if header["format_version"] != FORMAT_VERSION:
        raise ValidationFailed(
            f"This file has format_version {header['format_version']!r}; this version of "
            f"digipersona reads version {FORMAT_VERSION}."
        )


# -- import ---------------------------------------------------------------------------------------
@dataclass
class ImportCounts:
    rows: dict[str, int] = field(default_factory=lambda: {name: 0 for name, _ in SECTIONS})


def _converter(info: repository.ColumnInfo) -> Any:
    # Ids and references are UUIDs whatever the database stores them as.
    if info.python_type is uuid.UUID or info.name == "id" or info.target is not None:
        return uuid.UUID
    if info.python_type is datetime:
        return datetime.fromisoformat
    if info.python_type is date:
        return date.fromisoformat
    return None


def import_document(
    session: Session,
    principal: Principal,
    rows: Iterable[tuple[str, dict[str, Any]]],
) -> ImportCounts:
    """Write the rows into the principal's workspace, which must be empty (new ids throughout;
    a bad value is a clear error and, the caller's unit of work rolled back, nothing is kept)."""
    principal.require(Permission.admin)
    if not repository.is_empty(session, principal.workspace_id):
        raise Conflict(
            "This workspace already has personas or posts: import into an empty workspace."
        )
    models = dict(SECTIONS)
    plans = {name: _exported_columns(name, model) for name, model in SECTIONS}
    ids: dict[uuid.UUID, uuid.UUID] = {}
    counts = ImportCounts()
    batch: list[dict[str, Any]] = []
    current: str | None = None

    def flush() -> None:
        if current is not None and batch:
            repository.insert_rows(session, models[current], batch)
            counts.rows[current] += len(batch)
            batch.clear()

    for name, raw in rows:
        if name != current:
            flush()
            current = name
        batch.append(_row(name, raw, plans[name], ids, principal.workspace_id, counts))
        if len(batch) >= PAGE:
            flush()
    flush()
    summary.rebuild(session, principal.workspace_id)
    return counts


def _row(
    name: str,
    raw: dict[str, Any],
    plan: list[repository.ColumnInfo],
    ids: dict[uuid.UUID, uuid.UUID],
    workspace_id: uuid.UUID,
    counts: ImportCounts,
) -> dict[str, Any]:
    where = f"{name} row {counts.rows[name] + 1}"
    known = {c.name for c in plan}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValidationFailed(f"{where}: unknown field(s) {', '.join(unknown)}.")
    row: dict[str, Any] = {"workspace_id": workspace_id}
    for info in plan:
        if info.name not in raw:
            continue
        value = raw[info.name]
        convert = _converter(info)
        if value is not None and convert is not None:
            try:
                value = convert(value)
            except (TypeError, ValueError):
                raise ValidationFailed(f"{where}: {info.name} is not valid: {value!r}.") from None
        if info.name == "id":
            if value is None:
                raise ValidationFailed(f"{where}: no id.")
            if name in REFERENCED:
                if value in ids:
                    raise ValidationFailed(f"{where}: the id {value} is in the file twice.")
                new = uuid.uuid4()
                ids[value] = new
                value = new
            else:
                value = uuid.uuid4()
        elif info.target is not None and value is not None:
            if value not in ids:
                raise ValidationFailed(
                    f"{where}: {info.name} refers to {value} which is not earlier in the file."
                )
            value = ids[value]
        row[info.name] = value
    if "id" not in row:
        raise ValidationFailed(f"{where}: no id.")
    if name == "connections":
        row["access_token_enc"] = ""
        row["refresh_token_enc"] = None
        row["state"] = ConnectionState.needs_reconnect.value
        row["state_reason"] = "Imported without its tokens: connect this account again."
    elif name == "publications":
        row["idempotency_key"] = uuid.uuid4().hex
    return row
