"""Pagination bounds and cursors, shared by every list endpoint and by ``Repository``.

The database drivers take a limit or offset only as a signed 64-bit integer (and some code
paths as 32-bit), so an unbounded ``?offset=`` from a client ended in a driver error (a 500)
instead of a clear 422. Every list of the API declares its parameters with ``LimitQuery`` and
``OffsetQuery``, and the repository checks the same bounds for callers that are not endpoints.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, Field

from digipersona.exceptions import ValidationFailed

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Far beyond any real list; fits a 32-bit integer so every backend and driver accepts it.
MAX_OFFSET = 2**31 - 1

LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, 1 to {MAX_LIMIT}.")]
OffsetQuery = Annotated[
    int,
    Query(ge=0, le=MAX_OFFSET, description=f"Items to skip, 0 to {MAX_OFFSET}."),
]


def check_page(limit: int, offset: int) -> None:
    """Refuse a limit or offset outside the API's bounds with a 422."""
    for field, value, low, high in (
        ("limit", limit, 1, MAX_LIMIT),
        ("offset", offset, 0, MAX_OFFSET),
    ):
        if not low <= value <= high:
            message = f"must be between {low} and {high}"
            raise ValidationFailed(
                f"Invalid request: {field}: {message}",
                errors=[{"field": field, "message": message}],
            )


# -- keyset pagination -------------------------------------------------------------------------
# Offsets make the database walk every skipped row, so deep pages of a long history cost more
# and more; a cursor carries the last row's sort key and the next page starts right after it
# through the index that serves the order. The cursor is opaque to clients: urlsafe base64 of
# {"a": key} (the page after the row with that key) or {"b": key} (the page before it).

# Room for the longest key of any list (an interaction's 512-character platform id in UTF-8).
MAX_CURSOR_LENGTH = 4096
# Counting every match of a long history costs as much as reading it; ``total`` is counted up to
# this many and is null beyond (the list then says "more than COUNT_CAP").
COUNT_CAP = 10_000

CursorQuery = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR_LENGTH,
        description="Where the page starts: a previous page's `next_cursor` (opaque).",
    ),
]
TOTAL_DESCRIPTION = (
    f"How many items match the filters, counted up to {COUNT_CAP:,}; null when more match "
    "(counting a long history would cost as much as reading it)."
)
NEXT_CURSOR_DESCRIPTION = "Pass as `cursor` for the next page; null on the last page."
PREV_CURSOR_DESCRIPTION = "Pass as `cursor` for the previous page; null on the first page."


class PageInfo(BaseModel):
    """The paging fields of every list response, next to its ``items``."""

    total: int | None = Field(description=TOTAL_DESCRIPTION)
    limit: int
    offset: int
    next_cursor: str | None = Field(description=NEXT_CURSOR_DESCRIPTION)
    prev_cursor: str | None = Field(description=PREV_CURSOR_DESCRIPTION)


def _cursor_error(message: str) -> ValidationFailed:
    return ValidationFailed(
        f"Invalid request: cursor: {message}", errors=[{"field": "cursor", "message": message}]
    )


def encode_cursor(values: Sequence[Any], *, before: bool = False) -> str:
    """The opaque cursor of the page after (or ``before``) a row whose sort key is ``values``."""
    plain = [
        v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, uuid.UUID) else v
        for v in values
    ]
    raw = json.dumps(
        {"b" if before else "a": plain}, separators=(",", ":"), ensure_ascii=False
    ).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_value(value: Any, kind: type) -> Any:
    if kind is datetime:
        if not isinstance(value, str):
            raise ValueError
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError
        # Raises OverflowError for a moment that has no UTC form (year 1 east of Greenwich).
        return moment.astimezone(UTC)
    if kind is uuid.UUID:
        if not isinstance(value, str):
            raise ValueError
        return uuid.UUID(value)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 2**62:
            raise ValueError
        return value
    if kind is str and isinstance(value, str) and "\x00" not in value:
        # PostgreSQL text cannot hold NUL: such a key would be a driver error, not a 422.
        return value
    raise ValueError


def decode_cursor(cursor: str, kinds: Sequence[type]) -> tuple[bool, tuple[Any, ...]]:
    """Whether a cursor points backwards, and the sort key it carries; a 422 if malformed."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise _cursor_error(f"must be at most {MAX_CURSOR_LENGTH} characters")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        if not isinstance(data, dict) or len(data) != 1 or not data.keys() <= {"a", "b"}:
            raise ValueError
        ((direction, values),) = data.items()
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError
        key = tuple(_decode_value(v, k) for v, k in zip(values, kinds, strict=True))
    except (ValueError, TypeError, OverflowError, binascii.Error, RecursionError):
        raise _cursor_error(
            "is not a cursor of this list; pass a previous page's next_cursor unchanged"
        ) from None
    return direction == "b", key


def check_cursor_or_offset(cursor: str | None, offset: int) -> None:
    """A page starts at a cursor or at an offset, not both (which one would win is a guess)."""
    if cursor is not None and offset:
        raise ValidationFailed(
            "Invalid request: cursor: pass either cursor or offset, not both",
            errors=[{"field": "cursor", "message": "pass either cursor or offset, not both"}],
        )
