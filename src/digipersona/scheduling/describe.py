"""Posting slots as sentences people read: "Tuesdays and Thursdays at 06:30 Europe/Berlin"."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from digipersona.scheduling.rrules import normalise_rrule

DAYS = {
    "MO": "Monday",
    "TU": "Tuesday",
    "WE": "Wednesday",
    "TH": "Thursday",
    "FR": "Friday",
    "SA": "Saturday",
    "SU": "Sunday",
}
DAY_ORDER = list(DAYS)


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _ordinal(n: int) -> str:
    if n < 0:
        return "last" if n == -1 else f"{_ordinal(-n)} to last"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _times(parts: dict[str, str]) -> str | None:
    hours = [int(h) for h in parts.get("BYHOUR", "").split(",") if h]
    minutes = [int(m) for m in parts.get("BYMINUTE", "0").split(",") if m] or [0]
    if not hours:
        return None
    return _join([f"{h:02d}:{m:02d}" for h in sorted(hours) for m in sorted(minutes)])


def describe_rule(rule: str, tz: str) -> str:
    """One rule as a sentence; unusual rules fall back to a faithful generic wording."""
    parts = dict(p.split("=", 1) for p in normalise_rrule(rule).split(";"))
    freq = parts["FREQ"]
    interval = int(parts.get("INTERVAL", "1"))
    times = _times(parts)
    at = f" at {times}" if times else ""
    days = [d for d in parts.get("BYDAY", "").split(",") if d]
    plain_days = [d for d in days if d in DAYS]
    ordered = sorted(plain_days, key=DAY_ORDER.index)
    sentence: str
    if freq == "WEEKLY" and ordered and len(ordered) == len(days):
        names = "Weekdays" if ordered == DAY_ORDER[:5] else _join([DAYS[d] + "s" for d in ordered])
        if interval == 1:
            sentence = f"{names}{at}"
        else:
            sentence = f"Every {interval} weeks on {_join([DAYS[d] + 's' for d in ordered])}{at}"
    elif freq == "DAILY" and not days:
        sentence = f"Every day{at}" if interval == 1 else f"Every {interval} days{at}"
    elif freq == "MONTHLY" and "BYMONTHDAY" in parts and not days:
        monthdays = [_ordinal(int(d)) for d in parts["BYMONTHDAY"].split(",")]
        every = "every month" if interval == 1 else f"every {interval} months"
        sentence = f"The {_join(monthdays)} of {every}{at}"
    elif freq == "HOURLY":
        sentence = "Every hour" if interval == 1 else f"Every {interval} hours"
        if "BYMINUTE" in parts:
            sentence += f" at minute {parts['BYMINUTE']}"
    else:
        sentence = f"Custom schedule ({normalise_rrule(rule)})"
    return f"{sentence} {tz}"


def describe_slots(rules: Iterable[str], tz: str) -> list[str]:
    """Every rule of a persona as a sentence, never failing on odd rules."""
    out = []
    for rule in rules:
        try:
            out.append(describe_rule(rule, tz))
        except Exception:  # a stored rule that no longer parses must not break a page
            out.append(f"{rule} {tz}")
    return out


def describe_slot_instant(dt_utc: datetime, tz: str) -> str:
    """A UTC instant on the persona's clock: "Tue 24 Nov 06:30 (Europe/Berlin)"."""
    local = dt_utc.astimezone(ZoneInfo(tz))
    return f"{local:%a %d %b %H:%M} ({tz})"
