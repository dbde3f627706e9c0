"""Posting slots from RFC 5545 RRULEs in a persona's IANA time zone.

Slots are computed in LOCAL WALL TIME (the rule "every Tuesday at 06:30" means 06:30 on the
persona's clock, summer and winter) and converted to UTC at the last moment.

The one DST rule:

- A wall time that does not exist (spring forward: 02:30 on a day the clock jumps 02:00 -> 03:00)
  moves forward by the length of the gap: 02:30 becomes 03:30 local. This is PEP 495's
  ``fold=0`` mapping of a non-existent time, made explicit here.
- A wall time that happens twice (fall back: 01:30 on a day the clock goes 02:00 -> 01:00) uses
  the FIRST occurrence (the earlier UTC instant, ``fold=0``).

Both are decided by round-tripping through UTC, never by accident of the library.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from digipersona.exceptions import Conflict, ValidationFailed
from digipersona.scheduling.rrules import OCCURRENCE_HORIZON, normalise_rrule, occurrences

DEFAULT_SLOTS = ["FREQ=WEEKLY;BYDAY=TU,TH;BYHOUR=6;BYMINUTE=30"]
SEARCH_HORIZON = OCCURRENCE_HORIZON
MAX_CANDIDATES = 5000


def validate_timezone(name: str) -> str:
    """Return the IANA zone name or raise a 422 that says what a valid one looks like."""
    name = name.strip()
    if not name or name.startswith(("/", ".")) or ".." in name:
        raise ValidationFailed(f"{name!r} is not a time zone: use an IANA name like Europe/Berlin.")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        hint = ""
        lowered = name.lower()
        close = sorted(z for z in available_timezones() if lowered.split("/")[-1] in z.lower())
        if close:
            hint = f" Did you mean {', '.join(close[:3])}?"
        raise ValidationFailed(
            f"Unknown time zone {name!r}: use an IANA name like Europe/Berlin.{hint}"
        ) from None
    return name


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """Map a naive local wall time to UTC with the module's DST rule."""
    first = local.replace(tzinfo=zone, fold=0)
    offset = first.utcoffset()
    assert offset is not None
    instant = (local - offset).replace(tzinfo=UTC)
    # fold=0 takes the offset in force *before* a transition. For a repeated time that is the
    # first occurrence; for a non-existent time it is the pre-gap offset, which lands the instant
    # after the gap by exactly the gap's length (02:30 -> 03:30 local for a 1 h gap).
    return instant


def iter_slots(
    rules: Iterable[str], tz: str, start_utc: datetime, end_utc: datetime | None = None
) -> Iterator[datetime]:
    """Slots of all rules merged in order (aware UTC), in ``[start_utc, end_utc)``.

    Without ``end_utc`` the window is the two-year search horizon: every expansion is bounded
    (see ``scheduling.rrules``), whatever the rules say.
    """
    zone = ZoneInfo(tz)
    end_utc = end_utc if end_utc is not None else start_utc + SEARCH_HORIZON
    start_local = start_utc.astimezone(zone).replace(tzinfo=None) - timedelta(hours=3)
    start_local = start_local.replace(second=0, microsecond=0)
    # A day beyond the end in local time: the largest UTC offsets are +14 h and -12 h.
    end_local = end_utc.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    streams = [
        (
            to_utc(local, zone)
            for local in occurrences(normalise_rrule(rule), start_local, end_local)
        )
        for rule in rules
    ]
    last: datetime | None = None
    for slot in heapq.merge(*streams):
        if slot < start_utc:
            continue
        if slot >= end_utc:
            return
        if slot == last:
            continue
        last = slot
        yield slot


def next_free_slot(
    rules: Iterable[str],
    tz: str,
    after_utc: datetime,
    taken: Callable[[datetime], bool] | set[datetime],
    *,
    horizon: timedelta = SEARCH_HORIZON,
) -> datetime:
    """The first slot strictly after ``after_utc`` that is not taken."""
    is_taken = taken.__contains__ if isinstance(taken, set) else taken
    end = after_utc + horizon
    for count, slot in enumerate(
        iter_slots(list(rules), tz, after_utc + timedelta(seconds=1), end)
    ):
        if count >= MAX_CANDIDATES:
            break
        if not is_taken(slot):
            return slot
    raise Conflict(
        "No free posting slot in the next two years: the persona's slot rules have ended or "
        "every slot is taken. Add a slot rule or pick an explicit time."
    )


def apply_jitter(slot_utc: datetime, minutes: int, rng: random.Random) -> datetime:
    """Move a slot later by a uniform 0..``minutes`` (seconds resolution); 0 means exact."""
    if minutes <= 0:
        return slot_utc
    return slot_utc + timedelta(seconds=rng.randint(0, minutes * 60))
