"""Who is making a request, in which workspace, allowed to do what."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from digipersona.auth.permissions import Permission
from digipersona.exceptions import Forbidden
from digipersona.models import Role, User

_ACTIONS = {
    Permission.read: "read this workspace",
    Permission.drafts: "create drafts",
    Permission.write: "change personas or content",
    Permission.approve: "approve or reject posts",
    Permission.publish: "schedule or publish posts",
    Permission.connections: "manage platform connections",
    Permission.admin: "manage the workspace, its members and settings",
}


@dataclass(frozen=True)
class Principal:
    user: User
    workspace_id: uuid.UUID
    role: Role
    permissions: frozenset[Permission]
    via: Literal["jwt", "api_token", "session", "cli", "autopilot"]
    token_id: uuid.UUID | None = None
    # The scopes of the API token behind the request (None for people and internal callers).
    token_scopes: tuple[str, ...] | None = None

    @property
    def user_id(self) -> uuid.UUID:
        return self.user.id

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        """Raise 403 with a message naming what is missing."""
        if permission in self.permissions:
            return
        what = _ACTIONS[permission]
        if self.via == "api_token":
            raise Forbidden(
                f"This API token may not {what}: it needs the '{permission.value}' scope "
                f"and a role that allows it (your role: {self.role.value})."
            )
        raise Forbidden(f"Your role ({self.role.value}) may not {what}.")
