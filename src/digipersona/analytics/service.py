"""Analytics read side: per-post snapshots and totals, workspace trends, best times, top posts.

Engagement of a post = likes + reposts + replies + quotes, over the figures its platform
provides; a post whose platform provides none has no engagement figure (never a zero).
"""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from digipersona.analytics import abtest, prediction, repository
from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.config import Settings
from digipersona.exceptions import Conflict, NotFound, ValidationFailed
from digipersona.kit.time import utcnow
from digipersona.kit.words import plural
from digipersona.models import (
    AbTest,
    MetricSnapshot,
    MetricsSchedule,
    Persona,
    Post,
    PublicationState,
)
from digipersona.platforms.registry import get_provider_class, platform_ids

FIELDS = ("likes", "reposts", "replies", "quotes", "impressions")
ENGAGEMENT_FIELDS = ("likes", "reposts", "replies", "quotes")
NO_POST = uuid.UUID(int=0)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Below this many measured posts, best times and predictions say "not enough history".
MIN_POSTS_FOR_BEST_TIMES = 6
# A request reads at most this range of history (default: the last DEFAULT_RANGE).
MAX_RANGE = timedelta(days=366)
DEFAULT_RANGE = timedelta(days=90)
# Predictions and slot suggestions learn from at most this much recent history.
LEARNING_WINDOW = timedelta(days=365)
LEARNING_POSTS = 3000


def engagement(snapshot: MetricSnapshot | Reading | None) -> int | None:
    """likes + reposts + replies + quotes over the provided figures; ``None`` if none."""
    if snapshot is None:
        return None
    values = [getattr(snapshot, f) for f in ENGAGEMENT_FIELDS]
    provided = [v for v in values if v is not None]
    return sum(provided) if provided else None


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


def _sync_state(schedule: MetricsSchedule | None) -> dict[str, Any]:
    if schedule is None:
        return {"state": "pending", "next_sync_at": None, "note": None, "last_error": None}
    return {
        "state": schedule.stopped_reason or "scheduled",
        "next_sync_at": schedule.next_sync_at,
        "note": schedule.stopped_note,
        "last_error": schedule.last_error,
    }


def _totals(snapshots: Sequence[MetricSnapshot | Reading | None]) -> dict[str, int | None]:
    totals: dict[str, int | None] = {}
    for name in FIELDS:
        values = [getattr(s, name) for s in snapshots if s is not None]
        provided = [v for v in values if v is not None]
        totals[name] = sum(provided) if provided else None
    engagements = [engagement(s) for s in snapshots]
    provided_eng = [e for e in engagements if e is not None]
    totals["engagements"] = sum(provided_eng) if provided_eng else None
    return totals


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
    return {"post_id": post.id, "publications": items, "totals": _totals(latest)}


class Reading(NamedTuple):
    """The figures of a publication's latest metrics reading (``None``: not provided)."""

    likes: int | None
    reposts: int | None
    replies: int | None
    quotes: int | None
    impressions: int | None


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


def _zones(session: Session, workspace_id: uuid.UUID) -> dict[uuid.UUID, ZoneInfo]:
    zones = {}
    for persona_id, name in session.execute(
        select(Persona.id, Persona.timezone).where(Persona.workspace_id == workspace_id)
    ):
        try:
            zones[persona_id] = ZoneInfo(name)
        except (KeyError, ValueError):
            zones[persona_id] = ZoneInfo("UTC")
    return zones


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
    zones = _zones(session, workspace_id)
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
                local=row[2].astimezone(zones.get(persona, utc)),
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
    principal: Principal,
    *,
    persona_id: uuid.UUID | None = None,
    platform: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    top: int = 5,
) -> dict[str, Any]:
    """Totals, trend, best weekday/hour and top posts for a persona and/or platform."""
    if platform is not None and platform not in platform_ids():
        raise ValidationFailed(
            f"Unknown platform {platform!r}; use one of: {', '.join(sorted(platform_ids()))}."
        )
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
    timezone = None
    if persona_id is not None:
        persona = session.scalars(
            select(Persona).where(
                Persona.id == persona_id, Persona.workspace_id == principal.workspace_id
            )
        ).first()
        if persona is None:
            raise NotFound("No such persona in this workspace.")
        timezone = persona.timezone
    history = measured_history(
        session,
        principal.workspace_id,
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
        "totals": _totals([m.snapshot for m in history]),
        "trend": trend(history, start_day, end_day),
        "best_times": best_times(history),
        "top_posts": _top_posts(
            session,
            principal.workspace_id,
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
    zones = _zones(session, workspace_id)
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
        for row in repository.top_publications(
            session,
            workspace_id,
            start=start,
            end=end,
            persona_id=persona_id,
            platform=platform,
            limit=top,
        )
    ]


# -- engagement prediction -----------------------------------------------------------------------
def history_examples(session: Session, workspace_id: uuid.UUID) -> list[prediction.Example]:
    """The workspace's recent measured posts as training examples (oldest first)."""
    history = learning_history(session, workspace_id)
    post_ids = list({m.post_id for m in history})
    with_media = repository.media_post_ids(session, post_ids)
    parts = repository.variant_parts(session, post_ids)
    return [
        prediction.Example(
            at=m.local,
            persona=str(m.persona_id),
            platform=m.platform,
            features=prediction.features(
                m.text,
                m.local,
                platform=m.platform,
                has_media=m.post_id in with_media,
                parts=parts.get((m.post_id, m.platform), 1),
            ),
            engagement=float(m.engagement or 0),
        )
        for m in history
    ]


def _next_slot(session: Session, post: Post) -> datetime:
    """The persona's next posting slot: where an unscheduled post would most likely go."""
    from digipersona.scheduling.slots import iter_slots

    persona = session.get(Persona, post.persona_id)
    now = utcnow()
    if persona is None:
        return now
    try:
        return next(iter_slots(list(persona.slots), persona.timezone, now), now)
    except (ValueError, KeyError, ValidationFailed):
        return now


def predict_post(
    session: Session, principal: Principal, post_id: uuid.UUID, at: datetime | None = None
) -> dict[str, Any]:
    """The engagement band a post would likely get on each of its platforms, or why not."""
    post = repository.get_post(session, principal.workspace_id, post_id)
    if post is None:
        raise NotFound("No such post in this workspace.")
    if at is not None and at.tzinfo is None:
        raise ValidationFailed("'at' needs a time zone, e.g. 2026-11-03T06:30:00+01:00.")
    when = at or repository.first_scheduled_at(session, post.id) or _next_slot(session, post)
    zone = _zones(session, principal.workspace_id).get(post.persona_id, ZoneInfo("UTC"))
    local = when.astimezone(zone)
    examples = history_examples(session, principal.workspace_id)
    persona_count = sum(1 for e in examples if e.persona == str(post.persona_id))
    result: dict[str, Any] = {
        "post_id": post.id,
        "at": when,
        "local_time": local.isoformat(),
        "measured_posts": len(examples),
        "persona_measured_posts": persona_count,
        "status": "ok",
        "message": None,
        "predictions": [],
    }
    if len(examples) < prediction.MIN_TRAINING or persona_count < prediction.MIN_PERSONA:
        result["status"] = "insufficient_history"
        result["message"] = (
            f"Not enough history to predict: {len(examples)} measured posts in the workspace "
            f"(needs {prediction.MIN_TRAINING}) and {persona_count} for this persona (needs "
            f"{prediction.MIN_PERSONA}). Figures are read 1 h to 7 days after publication."
        )
        return result
    model = prediction.train(examples)
    has_media = bool(repository.media_post_ids(session, [post.id]))
    parts = repository.variant_parts(session, [post.id])
    for platform in post.platforms:
        row = prediction.features(
            post.body,
            local,
            platform=platform,
            has_media=has_media,
            parts=parts.get((post.id, platform), 1),
        )
        probs = model.classifier.proba(row)
        band = max(prediction.BANDS, key=lambda b: probs[b])
        low, high = model.thresholds.cuts(str(post.persona_id), platform)
        result["predictions"].append(
            {
                "platform": platform,
                "band": band,
                "probabilities": {b: round(p, 3) for b, p in probs.items()},
                "reasons": model.classifier.reasons(row, band),
                "band_limits": {"low_up_to": low, "high_above": high},
            }
        )
    return result


def evaluate_workspace(session: Session, workspace_id: uuid.UUID) -> dict[str, Any]:
    """Held-out accuracy of the prediction on the workspace's history vs the majority band."""
    examples = history_examples(session, workspace_id)
    evaluation = prediction.evaluate(examples)
    if evaluation is None:
        return {
            "status": "insufficient_history",
            "measured_posts": len(examples),
            "needed": prediction.MIN_TRAINING,
        }
    return {"status": "ok", "measured_posts": len(examples), **evaluation.to_dict()}


# -- best-time learning ----------------------------------------------------------------------------
MIN_CELL_POSTS = 3
MIN_PERSONA_POSTS_FOR_SLOTS = 12
SUGGEST_RATIO = 1.25


def _slot_cells(rules: list[str], tz: str, now: datetime) -> set[tuple[int, int]]:
    """The (local weekday, hour) pairs the persona's slots fall on, from the next 2 weeks."""
    from digipersona.scheduling.slots import iter_slots

    zone = ZoneInfo(tz)
    cells = set()
    for slot in iter_slots(rules, tz, now, now + timedelta(days=14)):
        local = slot.astimezone(zone)
        cells.add((local.weekday(), local.hour))
    return cells


def slot_suggestions(
    session: Session, principal: Principal, persona_id: uuid.UUID
) -> dict[str, Any]:
    """Suggest posting slots where the persona's own history disagrees with its slots.

    Engagement is compared as a ratio to the persona's median on the same platform (so an X
    post and a LinkedIn post are comparable), by local weekday and hour. A cell is evidence
    only with at least ``MIN_CELL_POSTS`` posts; a suggestion needs its median ratio to beat
    the current slots' by ``SUGGEST_RATIO`` (or the persona's overall median when no post went
    out in a current slot).
    """
    persona = session.scalars(
        select(Persona).where(
            Persona.id == persona_id, Persona.workspace_id == principal.workspace_id
        )
    ).first()
    if persona is None:
        raise NotFound("No such persona in this workspace.")
    history = learning_history(session, principal.workspace_id, persona.id)
    by_platform: dict[str, list[int]] = defaultdict(list)
    for m in history:
        assert m.engagement is not None
        by_platform[m.platform].append(m.engagement)
    medians = {p: statistics.median(v) for p, v in by_platform.items()}
    cells: dict[tuple[int, int], list[float]] = defaultdict(list)
    for m in history:
        assert m.engagement is not None
        typical = medians[m.platform] or 1
        cells[(m.local.weekday(), m.local.hour)].append(m.engagement / typical)
    slots = _slot_cells(list(persona.slots), persona.timezone, utcnow())
    result: dict[str, Any] = {
        "persona_id": persona.id,
        "timezone": persona.timezone,
        "slots": list(persona.slots),
        "measured_posts": len(history),
        "current": None,
        "suggestions": [],
        "note": None,
    }
    if len(history) < MIN_PERSONA_POSTS_FOR_SLOTS:
        result["note"] = (
            f"Slot suggestions need at least {MIN_PERSONA_POSTS_FOR_SLOTS} measured posts of this "
            f"persona; there are {len(history)}. Keep the current slots for now."
        )
        return result
    in_slots = [r for cell in slots for r in cells.get(cell, [])]
    all_ratios = [r for values in cells.values() for r in values]
    reference = statistics.median(in_slots) if in_slots else statistics.median(all_ratios)
    result["current"] = {
        "posts": len(in_slots),
        "median_ratio": round(reference, 3),
        "basis": "current slots" if in_slots else "all posts (none went out in a current slot)",
    }
    candidates = [
        (statistics.median(values), len(values), cell)
        for cell, values in cells.items()
        if len(values) >= MIN_CELL_POSTS and cell not in slots
    ]
    candidates.sort(reverse=True)
    for median_ratio, count, (weekday, hour) in candidates[:3]:
        if median_ratio < reference * SUGGEST_RATIO:
            break
        day = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[weekday]
        result["suggestions"].append(
            {
                "rrule": f"FREQ=WEEKLY;BYDAY={day};BYHOUR={hour};BYMINUTE=0",
                "weekday": WEEKDAYS[weekday],
                "hour": hour,
                "posts": count,
                "median_ratio": round(median_ratio, 3),
                "evidence": (
                    f"{plural(count, 'post')} published {WEEKDAYS[weekday]} "
                    f"{hour:02d}:00-{hour:02d}:59 "
                    f"had a median engagement of {median_ratio:.2f}x this persona's typical post, "
                    f"against {reference:.2f}x for {result['current']['basis']} "
                    f"({plural(len(in_slots) or len(all_ratios), 'post')})."
                ),
            }
        )
    if not result["suggestions"]:
        result["note"] = "The history does not clearly beat the current slots; keep them."
    return result


# -- A/B tests ----------------------------------------------------------------------------------
def _variant_figures(session: Session, post: Post) -> abtest.Figures:
    pubs = [
        p
        for p in repository.publications_of_post(session, post)
        if p.state == PublicationState.published.value
    ]
    latest: dict[uuid.UUID, MetricSnapshot] = {}
    for snap in repository.snapshots_for(session, [p.id for p in pubs]):
        latest[snap.publication_id] = snap  # ordered by time: the last one wins
    engagements = [engagement(s) for s in latest.values()]
    impressions = [s.impressions for s in latest.values() if s.impressions is not None]
    provided = [e for e in engagements if e is not None]
    # Per-impression rates only when every measured publication reports impressions.
    complete = bool(impressions) and len(impressions) == len(latest)
    return abtest.Figures(
        engagements=sum(provided) if provided else None,
        impressions=sum(impressions) if complete else None,
        publications=len(pubs),
        measured=len(provided),
    )


def ab_result(session: Session, test: AbTest) -> dict[str, Any]:
    """A test with each variant's figures and the comparison."""
    posts = {
        p.id: p
        for p in repository.posts_by_id(
            session, test.workspace_id, [test.post_a_id, test.post_b_id]
        )
    }
    a, b = posts.get(test.post_a_id), posts.get(test.post_b_id)
    fa = _variant_figures(session, a) if a else abtest.Figures(None, None, 0, 0)
    fb = _variant_figures(session, b) if b else abtest.Figures(None, None, 0, 0)
    return {
        "id": test.id,
        "name": test.name,
        "persona_id": test.persona_id,
        "created_at": test.created_at,
        "variants": {
            "a": {"post_id": test.post_a_id, **fa.__dict__},
            "b": {"post_id": test.post_b_id, **fb.__dict__},
        },
        "result": abtest.compare(fa, fb, seed=test.id.int % (2**32)),
    }


def create_ab_test(
    session: Session,
    principal: Principal,
    settings: Settings,
    *,
    post_a_id: uuid.UUID,
    post_b_id: uuid.UUID,
    name: str = "",
    schedule: bool = False,
) -> AbTest:
    """Pair two posts of one persona as variants; with ``schedule``, put them into comparable
    slots: A at its next free slot, B one week later at the same local weekday and time."""
    if post_a_id == post_b_id:
        raise ValidationFailed("Variant A and variant B must be two different posts.")
    a = repository.get_post(session, principal.workspace_id, post_a_id)
    b = repository.get_post(session, principal.workspace_id, post_b_id)
    if a is None or b is None:
        raise NotFound("No such post in this workspace.")
    if a.persona_id != b.persona_id:
        raise ValidationFailed("Both variants must belong to the same persona.")
    if sorted(a.platforms) != sorted(b.platforms):
        raise ValidationFailed(
            "Both variants must target the same platforms "
            f"(A: {', '.join(a.platforms) or 'none'}; B: {', '.join(b.platforms) or 'none'})."
        )
    test = AbTest(
        workspace_id=principal.workspace_id,
        persona_id=a.persona_id,
        name=name.strip()[:200],
        post_a_id=a.id,
        post_b_id=b.id,
        created_by_id=principal.user_id,
    )
    repository.add_ab_test(session, test)
    if schedule:
        schedule_ab_test(session, principal, settings, test)
    return test


def schedule_ab_test(
    session: Session, principal: Principal, settings: Settings, test: AbTest
) -> None:
    """Put both variants into comparable slots: A at its next free slot, B one week later at
    the same local weekday and time (both must be approved; needs the publish permission)."""
    from digipersona.publishing import service as publishing

    principal.require(Permission.publish)
    posts = {
        p.id: p
        for p in repository.posts_by_id(
            session, test.workspace_id, [test.post_a_id, test.post_b_id]
        )
    }
    waiting = [
        label
        for label, pid in (("A", test.post_a_id), ("B", test.post_b_id))
        if pid in posts and posts[pid].status != "approved"
    ]
    if waiting:
        raise Conflict(
            f"Only approved posts can be scheduled: approve variant {' and '.join(waiting)} "
            "first, then schedule the test."
        )
    first = publishing.schedule(session, principal, settings, test.post_a_id)
    slot = min(p.slot_at or p.scheduled_at for p in first)
    zone = _zones(session, principal.workspace_id).get(test.persona_id, ZoneInfo("UTC"))
    local = slot.astimezone(zone).replace(tzinfo=None) + timedelta(days=7)
    publishing.schedule(session, principal, settings, test.post_b_id, at=local.replace(tzinfo=zone))


def ab_tests_of_post(session: Session, principal: Principal, post_id: uuid.UUID) -> list[AbTest]:
    """The A/B tests a post is a variant of, newest first."""
    return [
        t
        for t in repository.list_ab_tests(session, principal.workspace_id)
        if post_id in (t.post_a_id, t.post_b_id)
    ]


def get_ab_test(session: Session, principal: Principal, test_id: uuid.UUID) -> AbTest:
    test = repository.get_ab_test(session, principal.workspace_id, test_id)
    if test is None:
        raise NotFound("No such A/B test in this workspace.")
    return test


def list_ab_tests(session: Session, principal: Principal) -> list[AbTest]:
    return repository.list_ab_tests(session, principal.workspace_id)
