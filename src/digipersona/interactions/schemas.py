from __future__ import annotations

from pydantic import BaseModel, Field

from digipersona.auth.schemas import Strict


class ScoreIn(Strict):
    text: str = Field(min_length=1, max_length=10000)
    author_name: str | None = Field(default=None, max_length=200)
    author_bio: str | None = Field(default=None, max_length=2000)


class ScoreOut(BaseModel):
    score: int
    is_lead: bool
    reasons: list[str]
