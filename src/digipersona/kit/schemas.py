"""The base of every JSON request body, and the text rules every request string follows."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator

NUL_MESSAGE = "cannot contain NUL (\\u0000) characters"


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


# For query and form strings; request bodies get the same rule from ``Strict``.
Text = Annotated[str, AfterValidator(refuse_nul)]


class Strict(BaseModel):
    """Request bodies refuse unknown fields (a typo is an error, not a silent no-op) and NULs."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return refuse_nul(value)
