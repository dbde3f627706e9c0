"""Every SQLAlchemy model, one file per table, re-exported here."""

from digipersona.models.api_token import ApiToken
from digipersona.models.audit_event import AuditEvent
from digipersona.models.base import Base
from digipersona.models.invitation import Invitation
from digipersona.models.media import Media
from digipersona.models.membership import Membership, Role
from digipersona.models.persona import Persona
from digipersona.models.post import Post, PostStatus
from digipersona.models.refresh_token import RefreshToken
from digipersona.models.user import User
from digipersona.models.variant import Variant
from digipersona.models.workspace import Workspace

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Base",
    "Invitation",
    "Media",
    "Membership",
    "Persona",
    "Post",
    "PostStatus",
    "RefreshToken",
    "Role",
    "User",
    "Variant",
    "Workspace",
]
