"""Slot suggestions: posting times a persona's own history favours over its current slots."""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from digipersona.analytics import repository
from digipersona.analytics.history import WEEKDAYS, learning_history
from digipersona.auth.principal import Principal
from digipersona.exceptions import NotFound
from digipersona.kit.time import utcnow
from digipersona.kit.words import plural
from digipersona.scheduling.slots import iter_slots

MIN_CELL_POSTS = 3
MIN_PERSONA_POSTS_FOR_SLOTS = 12
SUGGEST_RATIO = 1.25


def _slot_cells(rules: list[str], tz: str, now: datetime) -> set[tuple[int, int]]:
    """The (local weekday, hour) pairs the persona's slots fall on, from the next 2 weeks."""
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
    persona = repository.get_persona(session, principal.workspace_id, persona_id)
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
