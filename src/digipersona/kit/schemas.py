"""The base of every JSON request body, and the rules every request string and time follows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator

NUL_MESSAGE = "cannot contain NUL (\\u0000) characters"
OUT_OF_RANGE_MESSAGE = "is out of range: in UTC it must fall within the years 1 to 9999"


def refuse_nul(value: Any) -> Any:
    """Refuse a NUL character anywhere in a string, list or object (keys too).

    PostgreSQL text cannot hold NUL, so such input ended in a driver error (a 500) there and
    was stored on SQLite; refusing it at the edge answers the same 422 on both.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ValueError(NUL_MESSAGE)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
    return value


def refuse_unrepresentable(value: Any) -> Any:
    """Refuse an aware datetime that leaves years 1-9999 once converted to UTC.

    ``0001-01-01T00:00+01:00`` parses, but is a year-0 instant in UTC: every later conversion
    (``ensure_utc``, a database write) raised OverflowError, a 500.
    """
    if isinstance(value, datetime) and value.utcoffset() is not None:
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise ValueError(OUT_OF_RANGE_MESSAGE) from None
    return value


# For query and form values; request bodies get the same rules from ``Strict``.
Text = Annotated[str, AfterValidator(refuse_nul)]
Instant = Annotated[datetime, AfterValidator(refuse_unrepresentable)]


class Strict(BaseModel):
    """Request bodies refuse unknown fields (a typo is an error, not a silent no-op) and NULs."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return refuse_nul(value)

    @field_validator("*", mode="after")
    @classmethod
    def _representable(cls, value: Any) -> Any:
        return refuse_unrepresentable(value)
