"""Measured history: each published publication with its latest metrics reading, in its
persona's local time (what predictions and slot suggestions learn from), and the figures'
arithmetic shared by every analytics view.

Engagement of a post = likes + reposts + replies + quotes, over the figures its platform
provides; a post whose platform provides none has no engagement figure (never a zero).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from digipersona.analytics import repository
from digipersona.kit.time import utcnow
from digipersona.models import MetricSnapshot
from digipersona.platforms.registry import get_provider_class
from digipersona.publishing.summary import ENGAGEMENT_FIELDS, FIELDS, zone_of

NO_POST = uuid.UUID(int=0)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Predictions and slot suggestions learn from at most this much recent history.
LEARNING_WINDOW = timedelta(days=365)
LEARNING_POSTS = 3000


class Reading(NamedTuple):
    """The figures of a publication's latest metrics reading (``None``: not provided)."""

    likes: int | None
    reposts: int | None
    replies: int | None
    quotes: int | None
    impressions: int | None


def engagement(snapshot: MetricSnapshot | Reading | None) -> int | None:
    """likes + reposts + replies + quotes over the provided figures; ``None`` if none."""
    if snapshot is None:
        return None
    values = [getattr(snapshot, f) for f in ENGAGEMENT_FIELDS]
    provided = [v for v in values if v is not None]
    return sum(provided) if provided else None


def totals(snapshots: Sequence[MetricSnapshot | Reading | None]) -> dict[str, int | None]:
    """Each figure summed over the readings that provide it (``None``: none does)."""
    result: dict[str, int | None] = {}
    for name in FIELDS:
        values = [getattr(s, name) for s in snapshots if s is not None]
        provided = [v for v in values if v is not None]
        result[name] = sum(provided) if provided else None
    engagements = [engagement(s) for s in snapshots]
    provided_eng = [e for e in engagements if e is not None]
    result["engagements"] = sum(provided_eng) if provided_eng else None
    return result


def platform_capabilities(platform: str) -> dict[str, Any]:
    """What a platform's metrics read-back provides, and the note to show instead of zeros."""
    try:
        cls = get_provider_class(platform)
    except KeyError:
        return {"platform": platform, "supports_metrics": False, "fields": [], "note": ""}
    note = cls.metrics_note or (
        "" if cls.supports_metrics else f"{cls.display_name} offers no metrics."
    )
    return {
        "platform": platform,
        "display_name": cls.display_name,
        "supports_metrics": cls.supports_metrics,
        "fields": list(cls.metrics_fields),
        "note": note,
    }


def zones(session: Session, workspace_id: uuid.UUID) -> dict[uuid.UUID, ZoneInfo]:
    """Each persona's time zone (an unknown one counts as UTC)."""
    return {
        persona_id: zone_of(name)
        for persona_id, name in repository.persona_zones(session, workspace_id)
    }


@dataclass
class Measured:
    """One published publication with its latest reading, in its persona's local time."""

    persona_id: uuid.UUID
    platform: str
    local: datetime
    snapshot: Reading | None
    engagement: int | None
    post_id: uuid.UUID = NO_POST  # read with the text only (what predictions learn from)
    text: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def measured_history(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    persona_id: uuid.UUID | None = None,
    platform: str | None = None,
    limit: int | None = None,
    with_text: bool = False,
) -> list[Measured]:
    """Publications published in ``[start, end)`` (oldest first; with ``limit``, the newest
    ``limit``) with their latest reading and local time."""
    persona_zones = zones(session, workspace_id)
    rows = repository.measured_rows(
        session,
        workspace_id,
        start=start,
        end=end,
        persona_id=persona_id,
        platform=platform,
        limit=limit,
        with_text=with_text,
    )
    utc = ZoneInfo("UTC")
    ids: dict[str, uuid.UUID] = {}
    out = []
    for row in rows:
        persona = ids.get(row[0]) or ids.setdefault(row[0], uuid.UUID(row[0]))
        snapshot = Reading(*row[4:9]) if row[3] else None
        out.append(
            Measured(
                persona_id=persona,
                platform=row[1],
                local=row[2].astimezone(persona_zones.get(persona, utc)),
                snapshot=snapshot,
                engagement=engagement(snapshot),
                post_id=row[9] if with_text else NO_POST,
                text=row[10] if with_text else "",
            )
        )
    return out


def learning_history(
    session: Session, workspace_id: uuid.UUID, persona_id: uuid.UUID | None = None
) -> list[Measured]:
    """What predictions and slot suggestions learn from: the newest ``LEARNING_POSTS``
    publications of the last ``LEARNING_WINDOW`` that have engagement figures."""
    end = utcnow()
    history = measured_history(
        session,
        workspace_id,
        start=end - LEARNING_WINDOW,
        end=end,
        persona_id=persona_id,
        limit=LEARNING_POSTS,
        with_text=True,
    )
    return [m for m in history if m.engagement is not None]
