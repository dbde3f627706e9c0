from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from digipersona.kit.schemas import Strict


class RegisterIn(Strict):
    email: EmailStr = Field(max_length=320)
    password: str = Field(min_length=1, max_length=256)
    workspace_name: str | None = Field(default=None, min_length=1, max_length=200)
    display_name: str = Field(default="", max_length=200)
    invitation_token: str | None = Field(default=None, max_length=200)


class LoginIn(Strict):
    email: EmailStr = Field(max_length=320)
    password: str = Field(min_length=1, max_length=256)
    workspace_id: uuid.UUID | None = None


class PasswordChangeIn(Strict):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class RefreshIn(Strict):
    refresh_token: str = Field(min_length=1, max_length=200)


class TokenPairOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a type name)
    expires_in: int
    workspace_id: uuid.UUID


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    display_name: str
    created_at: datetime


class WorkspaceRef(BaseModel):
    id: uuid.UUID
    name: str
    role: str


class RegisterOut(BaseModel):
    user: UserOut
    workspace: WorkspaceRef


class MeOut(BaseModel):
    user: UserOut
    workspace: WorkspaceRef
    permissions: list[str]
    via: str
    workspaces: list[WorkspaceRef]
