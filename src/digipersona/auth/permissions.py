"""Roles, token scopes and the permissions they grant.

A request may do something only if its role grants the permission AND, for API tokens, the
token carries the scope. A ``drafts`` token can read and create drafts, never approve, schedule
or publish.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from digipersona.models.membership import Role


class Permission(StrEnum):
    read = "read"
    drafts = "drafts"
    write = "write"
    approve = "approve"
    publish = "publish"
    connections = "connections"
    admin = "admin"


ALL = frozenset(Permission)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.owner: ALL,
    Role.admin: ALL,
    Role.editor: frozenset(
        {Permission.read, Permission.drafts, Permission.write, Permission.publish}
    ),
    Role.approver: frozenset({Permission.read, Permission.drafts, Permission.approve}),
    Role.viewer: frozenset({Permission.read}),
}

# Scopes a token may carry; ``drafts`` implies ``read`` so an agent can find its personas.
TOKEN_SCOPE_IMPLIES: dict[str, frozenset[Permission]] = {
    "read": frozenset({Permission.read}),
    "drafts": frozenset({Permission.read, Permission.drafts}),
    "write": frozenset({Permission.read, Permission.drafts, Permission.write}),
    "approve": frozenset({Permission.read, Permission.approve}),
    "publish": frozenset({Permission.read, Permission.publish}),
    "connections": frozenset({Permission.read, Permission.connections}),
    "admin": frozenset({Permission.read, Permission.admin}),
}

ROLE_RANK = {Role.viewer: 0, Role.approver: 1, Role.editor: 1, Role.admin: 2, Role.owner: 3}


def scope_permissions(scopes: Iterable[str]) -> frozenset[Permission]:
    """Every permission a token's scopes grant, whatever its owner's role."""
    granted: set[Permission] = set()
    for scope in scopes:
        granted |= TOKEN_SCOPE_IMPLIES.get(scope, frozenset())
    return frozenset(granted)


def permissions_for(role: Role, scopes: list[str] | None = None) -> frozenset[Permission]:
    """Effective permissions: the role's, narrowed by the token's scopes when there is one."""
    granted = ROLE_PERMISSIONS[role]
    if scopes is None:
        return granted
    return granted & scope_permissions(scopes)
