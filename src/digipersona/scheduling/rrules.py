"""RFC 5545 RRULEs taken from users: checked once, in one place, and expanded with a bound.

Every rule a user gives (persona posting slots, autopilot generation rules, anything else that
takes one) goes through :func:`validate_rrule` when it is saved. It refuses what makes no sense
for posting and what would make the expansion run away:

- ``INTERVAL`` below 1 (python-dateutil never advances and spins forever) or above 1,000;
- ``COUNT`` above 10,000, ``UNTIL`` more than a century ahead, or both at once (RFC 5545 3.3.10);
- frequencies finer than hourly, ``BYSECOND`` other than 0, more than four ``BYMINUTE`` values
  (posting more often than every quarter hour is never intended);
- parts this product does not use (``DTSTART``, ``BYEASTER``, anything unknown);
- a rule with no occurrence in the next two years (``FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30``).

Expansion (:func:`occurrences`) is bounded whatever the rule. python-dateutil walks period by
period until it finds a match or passes ``datetime.MAXYEAR``; for a rule that matches nothing it
walks to the year 9999, one day at a time for hourly and daily rules (6-7 s of CPU). We expand a
window instead in a copy of it moved close to the year 9999: a run of years whose every year
starts on the same weekday and has the same length as the window's (the Gregorian calendar
repeats every 400 years, and within a century without a skipped leap year every 28 years, so such
a run is found in the last few decades before 9999). Occurrences in the copy, moved back, are
exactly those of the real window, and dateutil stops searching a few decades after the window's
end instead of 8,000 years.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from functools import lru_cache

from dateutil.rrule import rrule, rrulestr

from digipersona.exceptions import ValidationFailed

ALLOWED_FREQ = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY")
ALLOWED_PARTS = frozenset(
    {
        "FREQ",
        "INTERVAL",
        "COUNT",
        "UNTIL",
        "BYMONTH",
        "BYWEEKNO",
        "BYYEARDAY",
        "BYMONTHDAY",
        "BYDAY",
        "BYHOUR",
        "BYMINUTE",
        "BYSECOND",
        "BYSETPOS",
        "WKST",
    }
)
MAX_INTERVAL = 1000
MAX_COUNT = 10_000
MAX_UNTIL_YEARS = 100
MAX_MINUTES_PER_HOUR = 4
MAX_RULE_LENGTH = 500
OCCURRENCE_HORIZON = timedelta(days=2 * 366)

_LAST_YEAR = 9998  # the last year a window may end in: datetime.MAXYEAR is 9999


def _refuse(rule: str, why: str) -> ValidationFailed:
    return ValidationFailed(f"{rule!r}: {why}", errors=[{"field": "rrule", "message": why}])


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


def _int_part(rule: str, parts: dict[str, str], key: str, low: int, high: int) -> None:
    raw = parts.get(key)
    if raw is None:
        return
    if not raw.lstrip("+-").isdigit() or len(raw) > 12:
        raise _refuse(rule, f"{key} must be a whole number.")
    if not low <= int(raw) <= high:
        raise _refuse(rule, f"{key} must be between {low} and {high}.")


def _parse(rule: str, dtstart: datetime) -> rrule:
    try:
        parsed: rrule = rrulestr(rule, dtstart=dtstart)  # type: ignore[assignment]
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValidationFailed(f"{rule!r} is not a valid RRULE: {exc}.") from None
    return parsed


@lru_cache(maxsize=2048)
def normalise_rrule(rule: str) -> str:
    """The rule in canonical form, or a 422 saying what is wrong (cheap: no expansion)."""
    text = rule.strip()
    if len(text) > MAX_RULE_LENGTH:
        raise ValidationFailed(f"An RRULE is at most {MAX_RULE_LENGTH} characters.")
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
    unknown = sorted(set(parts) - ALLOWED_PARTS)
    if unknown:
        raise _refuse(rule, f"{', '.join(unknown)} is not supported in a posting rule.")
    _int_part(rule, parts, "INTERVAL", 1, MAX_INTERVAL)
    _int_part(rule, parts, "COUNT", 1, MAX_COUNT)
    if "COUNT" in parts and "UNTIL" in parts:
        raise _refuse(rule, "give COUNT or UNTIL, not both.")
    if parts.get("BYSECOND", "0") != "0":
        raise _refuse(rule, "posting times are whole minutes: leave BYSECOND out.")
    if len(parts.get("BYMINUTE", "").split(",")) > MAX_MINUTES_PER_HOUR:
        raise _refuse(
            rule, f"at most {MAX_MINUTES_PER_HOUR} BYMINUTE values (one post a quarter hour)."
        )
    normalised = ";".join(f"{k}={v}" for k, v in parts.items())
    parsed = _parse(normalised, datetime(2026, 1, 1))
    until = _until(parsed)
    if until is not None and until.year > datetime.now().year + MAX_UNTIL_YEARS:
        raise _refuse(rule, "UNTIL is more than a century ahead: leave it out for no end.")
    return normalised


def validate_rrule(rule: str, *, now: datetime | None = None) -> str:
    """Normalise a rule a user gives and check it occurs in the next two years (bounded)."""
    normalised = normalise_rrule(rule)
    start = (now or datetime.now()).replace(tzinfo=None, second=0, microsecond=0)
    if next(occurrences(normalised, start, start + OCCURRENCE_HORIZON), None) is None:
        raise _refuse(
            rule,
            "it has no occurrence in the next two years (its dates never happen together, "
            "or its COUNT or UNTIL has passed).",
        )
    return normalised


def _until(parsed: rrule) -> datetime | None:
    until: datetime | None = getattr(parsed, "_until", None)  # dateutil has no public accessor
    return until


def _year_type(year: int) -> tuple[int, bool]:
    return date(year, 1, 1).weekday(), calendar.isleap(year)


@lru_cache(maxsize=256)
def _year_shift(first: int, last: int) -> int:
    """Years to add so that ``first..last`` lands near 9999 in a calendar identical to it.

    Identical means every year of the window and its neighbours (ISO weeks look at them) starts
    on the same weekday and has the same length; a 400-year shift always qualifies.
    """
    span = last - first
    for target in range(_LAST_YEAR - span, max(first, _LAST_YEAR - span - 400), -1):
        if all(_year_type(first + i) == _year_type(target + i) for i in range(-1, span + 2)):
            return target - first
    return max(0, (_LAST_YEAR - last) // 400 * 400)


def _shift(moment: datetime, years: int) -> datetime:
    return moment.replace(year=moment.year + years)


def occurrences(rule: str, start: datetime, end: datetime) -> Iterator[datetime]:
    """Naive local occurrences of a normalised rule anchored at ``start``, before ``end``.

    ``start`` is the rule's DTSTART (the first candidate); the search never runs past the
    calendar copy's year 9999, so a rule that matches nothing costs at most 28 (or 400) years of
    dateutil's walk.
    """
    if end <= start:
        return
    years = _year_shift(start.year, end.year)
    parsed = _parse(rule, _shift(start, years))
    until = _until(parsed)
    if until is not None:
        if until < start:
            return
        parsed = parsed.replace(until=_shift(until, years) if until < end else None)
    shifted_end = _shift(end, years)
    try:
        for occurrence in parsed:
            if occurrence >= shifted_end:
                return
            yield _shift(occurrence, -years)
    except ValueError as exc:  # e.g. an INTERVAL and BYHOUR that can never meet
        raise ValidationFailed(f"{rule!r} is not a valid RRULE: {exc}.") from None
