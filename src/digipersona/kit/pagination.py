"""Offset pagination bounds, shared by every list endpoint and by ``Repository.paginate``.

The database drivers take a limit or offset only as a signed 64-bit integer (and some code
paths as 32-bit), so an unbounded ``?offset=`` from a client ended in a driver error (a 500)
instead of a clear 422. Every list of the API declares its parameters with ``LimitQuery`` and
``OffsetQuery``, and the repository checks the same bounds for callers that are not endpoints.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

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
