"""One post's figures: every metrics snapshot of its publications and their latest totals."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy.orm import Session

from digipersona.analytics import repository
from digipersona.analytics.history import engagement, platform_capabilities, totals
from digipersona.auth.principal import Principal
from digipersona.exceptions import NotFound
from digipersona.models import MetricSnapshot, MetricsSchedule
from digipersona.publishing.summary import FIELDS


def _sync_state(schedule: MetricsSchedule | None) -> dict[str, Any]:
    if schedule is None:
        return {"state": "pending", "next_sync_at": None, "note": None, "last_error": None}
    return {
        "state": schedule.stopped_reason or "scheduled",
        "next_sync_at": schedule.next_sync_at,
        "note": schedule.stopped_note,
        "last_error": schedule.last_error,
    }


def _snapshot_dict(s: MetricSnapshot) -> dict[str, Any]:
    return {
        "taken_at": s.taken_at,
        "stage": s.stage,
        **{name: getattr(s, name) for name in FIELDS},
        "engagements": engagement(s),
    }


def content_analytics(session: Session, principal: Principal, post_id: uuid.UUID) -> dict[str, Any]:
    """Snapshots per publication of one post, and totals over their latest readings."""
    post = repository.get_post(session, principal.workspace_id, post_id)
    if post is None:
        raise NotFound("No such post in this workspace.")
    pubs = repository.publications_of_post(session, post)
    ids = [p.id for p in pubs]
    schedules = {s.publication_id: s for s in repository.schedules_for(session, ids)}
    by_pub: dict[uuid.UUID, list[MetricSnapshot]] = defaultdict(list)
    for snap in repository.snapshots_for(session, ids):
        by_pub[snap.publication_id].append(snap)
    items = []
    latest: list[MetricSnapshot | None] = []
    for pub in pubs:
        snaps = by_pub.get(pub.id, [])
        last = snaps[-1] if snaps else None
        latest.append(last)
        caps = platform_capabilities(pub.platform)
        items.append(
            {
                "publication_id": pub.id,
                "platform": pub.platform,
                "state": pub.state,
                "external_url": pub.external_url,
                "published_at": pub.published_at,
                "sync": _sync_state(schedules.get(pub.id)),
                "provided_fields": caps["fields"],
                "platform_note": caps["note"],
                "latest": _snapshot_dict(last) if last else None,
                "snapshots": [_snapshot_dict(s) for s in snaps],
            }
        )
    return {"post_id": post.id, "publications": items, "totals": totals(latest)}
