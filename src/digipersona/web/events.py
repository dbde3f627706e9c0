"""Server-sent events: status changes pushed to open pages.

The stream tails the database (audit events and publication changes of the user's workspace)
once a second, so it works the same in embedded mode and with several web and worker processes,
without a message bus.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from digipersona.audit import service as audit
from digipersona.auth.dependencies import WebPrincipal
from digipersona.kit.time import ensure_utc, isoformat_z, utcnow
from digipersona.posts import service as posts
from digipersona.publishing import repository as publishing

router = APIRouter()
POLL_SECONDS = 1.0
WATCHED_ACTIONS = ("post.created", "post.status_changed", "post.edited", "post.scheduled")
LIVE_STATES = ("published", "failed", "missed", "held", "unknown", "sending")


def status_label(status: str | None) -> str:
    """How a post or publication status reads on a page ("in_review" -> "in review")."""
    return (status or "").replace("_", " ")


def _with_post_status(item: dict[str, Any], statuses: dict[str, str]) -> dict[str, Any]:
    """Every event says the post's status now, so a page never has to guess it."""
    post_status = statuses.get(item["post_id"])
    item["post_status"] = post_status
    item["post_status_label"] = status_label(post_status)
    if item["status"] is None:
        item["status"] = post_status
    item["status_label"] = status_label(item["status"])
    return item


def changes_since(
    factory: sessionmaker[Session], workspace_id: uuid.UUID, since: datetime
) -> tuple[list[dict[str, Any]], datetime]:
    """Events after ``since`` and the new cursor."""
    events: list[dict[str, Any]] = []
    cursor = since
    with factory() as session:
        audits = audit.changes_since(session, workspace_id, since, WATCHED_ACTIONS, limit=100)
        pubs = publishing.changed_publications(session, workspace_id, since, LIVE_STATES, limit=100)
        statuses = posts.statuses(
            session, {e.object_id for e in audits if e.object_id} | {p.post_id for p in pubs}
        )
        for event in audits:
            events.append(
                {
                    "type": event.action,
                    "post_id": str(event.object_id),
                    "status": event.data.get("to"),
                    "at": isoformat_z(event.created_at),
                }
            )
            cursor = max(cursor, ensure_utc(event.created_at))
        for pub in pubs:
            events.append(
                {
                    "type": f"publication.{pub.state}",
                    "post_id": str(pub.post_id),
                    "publication_id": str(pub.id),
                    "platform": pub.platform,
                    "status": pub.state,
                    "url": pub.external_url,
                    "error": pub.last_error,
                    "at": isoformat_z(pub.updated_at),
                }
            )
            cursor = max(cursor, ensure_utc(pub.updated_at))
    return [_with_post_status(item, statuses) for item in events], cursor


@router.get("/events", include_in_schema=False)
async def events(request: Request, principal: WebPrincipal) -> StreamingResponse:
    """``text/event-stream`` of the workspace's status changes."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    workspace_id = principal.workspace_id

    async def stream() -> AsyncIterator[str]:
        cursor = utcnow() - timedelta(seconds=2)
        yield "retry: 3000\n\n"
        idle = 0.0
        while not await request.is_disconnected():
            batch, cursor = await run_in_threadpool(changes_since, factory, workspace_id, cursor)
            for item in batch:
                yield f"event: change\ndata: {json.dumps(item)}\n\n"
            idle = 0.0 if batch else idle + POLL_SECONDS
            if idle >= 15:
                idle = 0.0
                yield ": keep-alive\n\n"
            await asyncio.sleep(POLL_SECONDS)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
