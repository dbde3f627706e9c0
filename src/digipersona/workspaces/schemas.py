from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from digipersona.auth.permissions import TOKEN_SCOPE_IMPLIES
from digipersona.kit.schemas import Strict
from digipersona.models import Role


class WorkspaceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    created_at: datetime


class WorkspaceUpdate(Strict):
    name: str = Field(min_length=1, max_length=200)


class MemberOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    email: str
    display_name: str
    role: Role
    created_at: datetime


class MemberUpdate(Strict):
    role: Role


class InvitationIn(Strict):
    email: EmailStr = Field(max_length=320)
    role: Role = Role.editor


class InvitationOut(BaseModel):
    id: uuid.UUID
    email: str
    role: Role
    expires_at: datetime
    created_at: datetime
    token: str | None = None
    accept_url: str | None = None


class AcceptInvitationIn(Strict):
    token: str = Field(min_length=1, max_length=200)


class ApiTokenIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(min_length=1, max_length=10)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(TOKEN_SCOPE_IMPLIES))
        if unknown:
            raise ValueError(
                f"unknown scope(s) {', '.join(unknown)}; use any of "
                f"{', '.join(sorted(TOKEN_SCOPE_IMPLIES))}"
            )
        return sorted(set(value))


class ApiTokenOut(BaseModel):
    id: uuid.UUID
    name: str
    scopes: list[str]
    token_prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    token: str | None = None
