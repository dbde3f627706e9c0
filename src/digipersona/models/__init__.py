"""Every SQLAlchemy model, one file per table, re-exported here."""

from digipersona.models.api_token import ApiToken
from digipersona.models.audit_event import AuditEvent
from digipersona.models.base import Base
from digipersona.models.invitation import Invitation
from digipersona.models.membership import Membership, Role
from digipersona.models.persona import Persona
from digipersona.models.refresh_token import RefreshToken
from digipersona.models.user import User
from digipersona.models.workspace import Workspace

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Base",
    "Invitation",
    "Membership",
    "Persona",
    "RefreshToken",
    "Role",
    "User",
    "Workspace",
]
