"""The analytics overview as it was computed before the daily summary (every publication of
the range and its latest reading, read and summed per request): the reference the summary's
results are compared with (tests/analytics/test_summary.py). Copied, not imported, so a change
to the product cannot change the reference."""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from digipersona.analytics.history import (
    WEEKDAYS,
    Measured,
    measured_history,
    platform_capabilities,
    totals,
)
from digipersona.analytics.history import zones as persona_zones
from digipersona.analytics.repository import _in_range
from digipersona.models import Persona, Post, Publication
from digipersona.publishing.repository import latest_reading

MIN_POSTS_FOR_BEST_TIMES = 6


def _engagement_sql(reading: Any) -> Any:
    """likes + reposts + replies + quotes over the provided figures; NULL if none is."""
    figures = (reading.c.likes, reading.c.reposts, reading.c.replies, reading.c.quotes)
    total: Any = func.coalesce(figures[0], 0)
    for figure in figures[1:]:
        total = total + func.coalesce(figure, 0)
    return case((and_(*(f.is_(None) for f in figures)), None), else_=total)


def top_publications(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    persona_id: uuid.UUID | None,
    platform: str | None,
    limit: int,
) -> list[Any]:
    """The ``limit`` most engaging publications of the range (latest readings), with their
    post's persona, text and link."""
    latest = latest_reading(session)
    engagement = _engagement_sql(latest[0])
    stmt = _in_range(
        select(
            Publication.id,
            Publication.post_id,
            Post.persona_id,
            Post.body,
            Publication.platform,
            Publication.published_at,
            Publication.external_url,
            engagement.label("engagement"),
            latest[0].c.impressions,
        ),
        latest,
        workspace_id,
        start,
        end,
        persona_id,
        platform,
    )
    stmt = (
        stmt.where(engagement.is_not(None))
        .order_by(engagement.desc(), Publication.published_at.desc(), Publication.id)
        .limit(limit)
    )
    return list(session.execute(stmt))


def best_times(history: list[Measured]) -> dict[str, Any]:
    """Median engagement by local weekday and hour, from measured posts only."""
    measured = [m for m in history if m.engagement is not None]
    by_day: dict[int, list[int]] = defaultdict(list)
    by_hour: dict[int, list[int]] = defaultdict(list)
    grid: dict[tuple[int, int], list[int]] = defaultdict(list)
    for m in measured:
        assert m.engagement is not None
        by_day[m.local.weekday()].append(m.engagement)
        by_hour[m.local.hour].append(m.engagement)
        grid[(m.local.weekday(), m.local.hour)].append(m.engagement)
    weekdays: list[dict[str, Any]] = [
        {
            "weekday": WEEKDAYS[d],
            "index": d,
            "posts": len(by_day[d]),
            "median_engagement": statistics.median(by_day[d]) if by_day[d] else None,
        }
        for d in range(7)
    ]
    hours: list[dict[str, Any]] = [
        {
            "hour": h,
            "posts": len(by_hour[h]),
            "median_engagement": statistics.median(by_hour[h]) if by_hour[h] else None,
        }
        for h in range(24)
    ]
    cells = [
        {
            "weekday": WEEKDAYS[d],
            "index": d,
            "hour": h,
            "posts": len(v),
            "median_engagement": statistics.median(v),
        }
        for (d, h), v in sorted(grid.items())
    ]
    enough = len(measured) >= MIN_POSTS_FOR_BEST_TIMES
    result: dict[str, Any] = {
        "measured_posts": len(measured),
        "enough_data": enough,
        "weekdays": weekdays,
        "hours": hours,
        "cells": cells,
        "best_weekday": None,
        "best_hour": None,
        "note": None,
    }
    if not enough:
        result["note"] = (
            f"Best times need at least {MIN_POSTS_FOR_BEST_TIMES} posts with engagement figures; "
            f"there are {len(measured)}."
        )
        return result
    # Buckets with a single post are anecdotes, not evidence.
    day_candidates = [w for w in weekdays if w["posts"] >= 2]
    hour_candidates = [h for h in hours if h["posts"] >= 2]
    if day_candidates:
        result["best_weekday"] = max(day_candidates, key=lambda w: w["median_engagement"])[
            "weekday"
        ]
    if hour_candidates:
        result["best_hour"] = max(hour_candidates, key=lambda h: h["median_engagement"])["hour"]
    return result


def trend(history: list[Measured], start: date | None, end: date | None) -> list[dict[str, Any]]:
    """Per local day (per week beyond 92 days): posts published, their engagements and
    impressions (latest readings)."""
    if not history:
        return []
    first = start or history[0].local.date()
    last = end or history[-1].local.date()
    weekly = (last - first).days > 92

    def bucket(d: date) -> date:
        return d - timedelta(days=d.weekday()) if weekly else d

    points: dict[date, dict[str, Any]] = {}
    day = bucket(first)
    step = timedelta(days=7 if weekly else 1)
    while day <= last:
        points[day] = {"date": day, "posts": 0, "engagements": None, "impressions": None}
        day += step
    for m in history:
        point = points.get(bucket(m.local.date()))
        if point is None:
            continue
        point["posts"] += 1
        if m.engagement is not None:
            point["engagements"] = (point["engagements"] or 0) + m.engagement
        if m.snapshot is not None and m.snapshot.impressions is not None:
            point["impressions"] = (point["impressions"] or 0) + m.snapshot.impressions
    return list(points.values())


def workspace_analytics(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    persona_id: uuid.UUID | None = None,
    platform: str | None = None,
    start: datetime,
    end: datetime,
    top: int = 5,
) -> dict[str, Any]:
    """Totals, trend, best weekday/hour and top posts for a persona and/or platform."""
    timezone = None
    if persona_id is not None:
        timezone = session.scalars(select(Persona.timezone).where(Persona.id == persona_id)).one()
    history = measured_history(
        session,
        workspace_id,
        persona_id=persona_id,
        platform=platform,
        start=start,
        end=end,
    )
    zone = ZoneInfo(timezone) if timezone else ZoneInfo("UTC")
    start_day = start.astimezone(zone).date()
    end_day = (end - timedelta(microseconds=1)).astimezone(zone).date()
    platforms_seen = sorted({m.platform for m in history} | ({platform} if platform else set()))
    return {
        "persona_id": persona_id,
        "platform": platform,
        "start": start,
        "end": end,
        "timezone": timezone,
        "posts": len(history),
        "measured_posts": sum(1 for m in history if m.snapshot is not None),
        "totals": totals([m.snapshot for m in history]),
        "trend": trend(history, start_day, end_day),
        "best_times": best_times(history),
        "top_posts": _top_posts(
            session,
            workspace_id,
            start=start,
            end=end,
            persona_id=persona_id,
            platform=platform,
            top=top,
        ),
        "platforms": [platform_capabilities(p) for p in platforms_seen],
    }


def _top_posts(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    persona_id: uuid.UUID | None,
    platform: str | None,
    top: int,
) -> list[dict[str, Any]]:
    """The ``top`` most engaging publications of the range (ranked by the database)."""
    zones = persona_zones(session, workspace_id)
    return [
        {
            "post_id": row.post_id,
            "publication_id": row.id,
            "platform": row.platform,
            "published_at": row.published_at,
            "local_time": row.published_at.astimezone(
                zones.get(row.persona_id, ZoneInfo("UTC"))
            ).isoformat(),
            "excerpt": row.body.split("\n")[0][:120],
            "engagements": row.engagement,
            "impressions": row.impressions,
            "external_url": row.external_url,
        }
        for row in top_publications(
            session,
            workspace_id,
            start=start,
            end=end,
            persona_id=persona_id,
            platform=platform,
            limit=top,
        )
    ]
