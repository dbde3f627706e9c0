"""The workspace's analytics overview: totals, trend, best weekday/hour and top posts of a
range, read from the daily summary (``publishing/summary.py``) so its cost does not grow with
history: the whole local days of the range come from ``analytics_days`` (a few rows per day),
the partial days at its two ends from their publications (at most two days of them).
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from digipersona.analytics import repository
from digipersona.analytics.history import WEEKDAYS, platform_capabilities, zones
from digipersona.auth.principal import Principal
from digipersona.exceptions import NotFound, ValidationFailed
from digipersona.kit.time import utcnow
from digipersona.platforms.registry import platform_ids
from digipersona.publishing.summary import (
    FIELDS,
    SUMS,
    TOP_KEEP,
    UTC,
    Day,
    DayKey,
    accumulate,
    top_order,
)

# Below this many measured posts, best times and predictions say "not enough history".
MIN_POSTS_FOR_BEST_TIMES = 6
# A request reads at most this range of history (default: the last DEFAULT_RANGE).
MAX_RANGE = timedelta(days=366)
DEFAULT_RANGE = timedelta(days=90)
# The partial days at each end of a range are read from publications within this much of it.
EDGE = timedelta(days=2)


def median(values: Counter[int]) -> float:
    """``statistics.median`` of the multiset ``values`` (value -> how many), without
    expanding it."""
    n = sum(values.values())
    wanted = {n // 2} if n % 2 else {n // 2 - 1, n // 2}
    picked: list[int] = []
    seen = 0
    for value, count in sorted(values.items()):
        for index in sorted(wanted):
            if seen <= index < seen + count:
                picked.append(value)
        seen += count
        if len(picked) == len(wanted):
            break
    return picked[0] if n % 2 else (picked[0] + picked[1]) / 2


def best_times(cells: dict[tuple[int, int], Counter[int]]) -> dict[str, Any]:
    """Median engagement by local weekday and hour, from measured posts only
    (``cells``: (weekday, hour) -> engagement -> posts)."""
    by_day: dict[int, Counter[int]] = {d: Counter() for d in range(7)}
    by_hour: dict[int, Counter[int]] = {h: Counter() for h in range(24)}
    for (d, h), values in cells.items():
        by_day[d].update(values)
        by_hour[h].update(values)
    measured = sum(by_day[d].total() for d in range(7))
    weekdays: list[dict[str, Any]] = [
        {
            "weekday": WEEKDAYS[d],
            "index": d,
            "posts": by_day[d].total(),
            "median_engagement": median(by_day[d]) if by_day[d] else None,
        }
        for d in range(7)
    ]
    hours: list[dict[str, Any]] = [
        {
            "hour": h,
            "posts": by_hour[h].total(),
            "median_engagement": median(by_hour[h]) if by_hour[h] else None,
        }
        for h in range(24)
    ]
    result: dict[str, Any] = {
        "measured_posts": measured,
        "enough_data": measured >= MIN_POSTS_FOR_BEST_TIMES,
        "weekdays": weekdays,
        "hours": hours,
        "cells": [
            {
                "weekday": WEEKDAYS[d],
                "index": d,
                "hour": h,
                "posts": v.total(),
                "median_engagement": median(v),
            }
            for (d, h), v in sorted(cells.items())
            if v
        ],
        "best_weekday": None,
        "best_hour": None,
        "note": None,
    }
    if not result["enough_data"]:
        result["note"] = (
            f"Best times need at least {MIN_POSTS_FOR_BEST_TIMES} posts with engagement figures; "
            f"there are {measured}."
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


def trend(days: dict[DayKey, Day], first: date, last: date) -> list[dict[str, Any]]:
    """Per local day (per week beyond 92 days): posts published, their engagements and
    impressions (latest readings)."""
    if not days:
        return []
    weekly = (last - first).days > 92

    def bucket(d: date) -> date:
        return d - timedelta(days=d.weekday()) if weekly else d

    points: dict[date, dict[str, Any]] = {}
    day = bucket(first)
    step = timedelta(days=7 if weekly else 1)
    while day <= last:
        points[day] = {"date": day, "posts": 0, "engagements": None, "impressions": None}
        day += step
    for key, summed in days.items():
        point = points.get(bucket(key[3]))
        if point is None:
            continue
        point["posts"] += summed.posts
        for name in ("engagements", "impressions"):
            if summed.counts[name]:
                point[name] = (point[name] or 0) + summed.sums[name]
    return list(points.values())


def _check_range(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    for name, value in (("start", start), ("end", end)):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed(f"'{name}' needs a time zone, e.g. 2026-11-01T00:00:00Z.")
    if start is not None and end is not None and start >= end:
        raise ValidationFailed("'start' must be before 'end'.")
    end = end or utcnow()
    start = start or end - DEFAULT_RANGE
    if start >= end:
        raise ValidationFailed("'start' must be before 'end'.")
    if end - start > MAX_RANGE:
        raise ValidationFailed(
            f"Ask for at most {MAX_RANGE.days} days at a time ('start' to 'end'); "
            f"without 'start' the last {DEFAULT_RANGE.days} days are shown."
        )
    return start, end


def _whole_days(start: datetime, end: datetime, zone: ZoneInfo) -> tuple[date, date]:
    """The first and last local days lying wholly inside ``[start, end)``."""
    local = start.astimezone(zone)
    first = local.date() if local.time() == datetime.min.time() else local.date() + timedelta(1)
    return first, end.astimezone(zone).date() - timedelta(days=1)


def range_days(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    persona_id: uuid.UUID | None,
    platform: str | None,
    persona_zones: dict[uuid.UUID, ZoneInfo],
) -> dict[DayKey, Day]:
    """What was published in ``[start, end)``, summed per (persona, platform, local day)."""
    filters: dict[str, Any] = {"persona_id": persona_id, "platform": platform}
    if end - start <= 2 * EDGE:
        rows = repository.publications_between(session, workspace_id, [(start, end)], **filters)
        return accumulate(rows, persona_zones)
    whole = {p: _whole_days(start, end, z) for p, z in persona_zones.items()}
    if persona_id is not None:
        whole = {p: span for p, span in whole.items() if p == persona_id}
    days: dict[DayKey, Day] = {}
    if whole:
        first = min(span[0] for span in whole.values())
        last = max(span[1] for span in whole.values())
        rows = repository.summary_days(session, workspace_id, first, last, **filters)
        stale = {
            r["persona_id"]
            for r in rows
            if r["persona_id"] in whole and r["timezone"] != persona_zones[r["persona_id"]].key
        }
        if stale:  # a persona's time zone changed since its days were summed
            for stale_persona in stale:
                repository.rebuild_summary(session, workspace_id, stale_persona)
            rows = repository.summary_days(session, workspace_id, first, last, **filters)
        for row in rows:
            span = whole.get(row["persona_id"])
            if span is not None and span[0] <= row["day"] <= span[1]:
                key = (workspace_id, row["persona_id"], row["platform"], row["day"])
                days[key] = Day.from_row(row)
    edges = [(start, start + EDGE), (end - EDGE, end)]
    rows = repository.publications_between(session, workspace_id, edges, **filters)
    for key, summed in accumulate(rows, persona_zones).items():
        span = whole.get(key[1])
        if span is None or not span[0] <= key[3] <= span[1]:
            days[key] = summed
    return days


def workspace_analytics(
    session: Session,
    principal: Principal,
    *,
    persona_id: uuid.UUID | None = None,
    platform: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    top: int = TOP_KEEP,
) -> dict[str, Any]:
    """Totals, trend, best weekday/hour and top posts for a persona and/or platform."""
    if platform is not None and platform not in platform_ids():
        raise ValidationFailed(
            f"Unknown platform {platform!r}; use one of: {', '.join(sorted(platform_ids()))}."
        )
    if not 0 <= top <= TOP_KEEP:
        raise ValidationFailed(f"Ask for at most {TOP_KEEP} top posts.")
    start, end = _check_range(start, end)
    timezone = None
    if persona_id is not None:
        persona = repository.get_persona(session, principal.workspace_id, persona_id)
        if persona is None:
            raise NotFound("No such persona in this workspace.")
        timezone = persona.timezone
    persona_zones = zones(session, principal.workspace_id)
    days = range_days(
        session,
        principal.workspace_id,
        start=start,
        end=end,
        persona_id=persona_id,
        platform=platform,
        persona_zones=persona_zones,
    )
    zone = ZoneInfo(timezone) if timezone else UTC
    start_day = start.astimezone(zone).date()
    end_day = (end - timedelta(microseconds=1)).astimezone(zone).date()
    platforms_seen = sorted({k[2] for k in days} | ({platform} if platform else set()))
    whole = Day()
    cells: dict[tuple[int, int], Counter[int]] = {}
    for key, summed in days.items():
        whole.merge(summed)
        weekday = key[3].weekday()
        for hour, values in summed.hours.items():
            cells.setdefault((weekday, hour), Counter()).update(values)
    return {
        "persona_id": persona_id,
        "platform": platform,
        "start": start,
        "end": end,
        "timezone": timezone,
        "posts": whole.posts,
        "measured_posts": whole.measured,
        "totals": {
            name: whole.sums[name] if whole.counts[name] else None for name in (*FIELDS, SUMS[-1])
        },
        "trend": trend(days, start_day, end_day),
        "best_times": best_times(cells),
        "top_posts": _top_posts(session, principal.workspace_id, whole, top, persona_zones),
        "platforms": [platform_capabilities(p) for p in platforms_seen],
    }


def _top_posts(
    session: Session,
    workspace_id: uuid.UUID,
    whole: Day,
    top: int,
    persona_zones: dict[uuid.UUID, ZoneInfo],
) -> list[dict[str, Any]]:
    """The ``top`` most engaging publications of the range (latest readings)."""
    ranked = sorted(whole.top, key=top_order)[:top]
    if not ranked:
        return []
    rows = {
        row.id: row
        for row in repository.publications_by_id(session, workspace_id, [r[2] for r in ranked])
    }
    out = []
    for engagement, _at, publication_id in ranked:
        row = rows.get(publication_id)
        if row is None:
            continue
        out.append(
            {
                "post_id": row.post_id,
                "publication_id": row.id,
                "platform": row.platform,
                "published_at": row.published_at,
                "local_time": row.published_at.astimezone(
                    persona_zones.get(row.persona_id, UTC)
                ).isoformat(),
                "excerpt": row.body.split("\n")[0][:120],
                "engagements": engagement,
                "impressions": row.impressions,
                "external_url": row.external_url,
            }
        )
    return out
