"""Settings -> Audit: the workspace's audit log with filters, a page at a time (keyset)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from digipersona.audit.repository import AuditRepository
from digipersona.audit.service import actor_names
from digipersona.auth.dependencies import WebPrincipal
from digipersona.auth.permissions import Permission
from digipersona.db import SessionDep
from digipersona.web.templating import render
from digipersona.workspaces import service as workspaces

router = APIRouter()
PAGE = 50
OBJECT_TYPES = (
    "post",
    "persona",
    "connection",
    "media",
    "membership",
    "invitation",
    "api_token",
    "workspace",
    "user",
)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@router.get("/settings/audit")
def audit_page(
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    object_type: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    since: str | None = None,
    until: str | None = None,
    cursor: str | None = None,
) -> Response:
    """Who did what, when; owners and admins only."""
    principal.require(Permission.admin)
    object_type = object_type if object_type in OBJECT_TYPES else None
    action = (action or "").strip()[:64] or None
    actor_id, since_day, until_day = _uuid(actor), _day(since), _day(until)
    page = AuditRepository(session).search(
        principal.workspace_id,
        object_type=object_type,
        action_prefix=action,
        actor_user_id=actor_id,
        since=datetime.combine(since_day, time(), UTC) if since_day else None,
        until=datetime.combine(until_day + timedelta(days=1), time(), UTC) if until_day else None,
        limit=PAGE,
        cursor=cursor or None,
    )
    members = workspaces.list_members(session, principal)
    filters = {
        "object_type": object_type,
        "action": action,
        "actor": str(actor_id) if actor_id else None,
        "since": since_day.isoformat() if since_day else None,
        "until": until_day.isoformat() if until_day else None,
    }
    return render(
        request,
        "audit/page.html",
        {
            "active": "settings",
            "events": page.items,
            "page": page,
            "filters": filters,
            "base": "/settings/audit?" + urlencode({k: v for k, v in filters.items() if v}),
            "object_types": OBJECT_TYPES,
            "members": [user for _, user in members],
            "actors": actor_names(
                session, {e.actor_user_id for e in page.items if e.actor_user_id}
            ),
        },
    )
