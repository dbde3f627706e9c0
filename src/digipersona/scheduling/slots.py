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

from dateutil.rrule import rrule, rrulestr

from digipersona.exceptions import Conflict, ValidationFailed

DEFAULT_SLOTS = ["FREQ=WEEKLY;BYDAY=TU,TH;BYHOUR=6;BYMINUTE=30"]
ALLOWED_FREQ = {"YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY"}
SEARCH_HORIZON = timedelta(days=2 * 366)
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


def _parts(rule: str) -> dict[str, str]:
    out = {}
    for piece in rule.split(";"):
        if "=" not in piece:
            raise ValidationFailed(
                f"{rule!r} is not an RRULE: expected KEY=VALUE pairs split by ';'."
            )
        key, _, value = piece.partition("=")
        out[key.strip().upper()] = value.strip().upper()
    return out


def validate_rrule(rule: str) -> str:
    """Normalise an RFC 5545 RRULE string or raise a 422 saying what is wrong."""
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text:
        raise ValidationFailed(
            "An empty posting slot: give a rule like FREQ=WEEKLY;BYDAY=TU;BYHOUR=9."
        )
    if "DTSTART" in text.upper() or "\n" in text:
        raise ValidationFailed(
            f"{rule!r}: leave DTSTART out; slots are anchored in the persona's time zone."
        )
    parts = _parts(text)
    freq = parts.get("FREQ")
    if freq is None:
        raise ValidationFailed(f"{rule!r} has no FREQ: start with FREQ=WEEKLY, FREQ=DAILY, ...")
    if freq not in ALLOWED_FREQ:
        raise ValidationFailed(
            f"{rule!r}: FREQ={freq} is not allowed; use HOURLY or coarser (posting every minute "
            "or second is never intended)."
        )
    try:
        rrulestr(text, dtstart=datetime(2026, 1, 1))
    except (ValueError, TypeError) as exc:
        raise ValidationFailed(f"{rule!r} is not a valid RRULE: {exc}.") from None
    normalised = ";".join(f"{k}={v}" for k, v in parts.items())
    return normalised


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


def _rule_iter(rule: str, zone: ZoneInfo, start_local: datetime) -> Iterator[datetime]:
    anchor = start_local.replace(second=0, microsecond=0)
    parsed: rrule = rrulestr(rule, dtstart=anchor)  # type: ignore[assignment]
    return iter(parsed)


def iter_slots(
    rules: Iterable[str], tz: str, start_utc: datetime, end_utc: datetime | None = None
) -> Iterator[datetime]:
    """Slots of all rules merged in order (aware UTC), from ``start_utc`` (inclusive)."""
    zone = ZoneInfo(tz)
    start_local = start_utc.astimezone(zone).replace(tzinfo=None) - timedelta(hours=3)
    streams = []
    for rule in rules:
        streams.append(
            to_utc(local, zone) for local in _rule_iter(validate_rrule(rule), zone, start_local)
        )
    last: datetime | None = None
    for slot in heapq.merge(*streams):
        if slot < start_utc:
            continue
        if end_utc is not None and slot >= end_utc:
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
