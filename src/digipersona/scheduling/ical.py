"""iCalendar (RFC 5545) export of scheduled and published posts, built with ``icalendar``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from icalendar import Calendar, Event

from digipersona import __version__
from digipersona.kit.time import ensure_utc, utcnow

STATUS = {
    "published": "CONFIRMED",
    "scheduled": "TENTATIVE",
    "held": "TENTATIVE",
    "unknown": "TENTATIVE",
    "claimed": "TENTATIVE",
    "sending": "TENTATIVE",
    "failed": "CANCELLED",
    "missed": "CANCELLED",
    "cancelled": "CANCELLED",
}


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    start: datetime
    summary: str
    description: str = ""
    url: str | None = None
    state: str = "scheduled"
    duration_minutes: int = 15


def build_calendar(name: str, events: Iterable[CalendarEvent]) -> bytes:
    """A VCALENDAR with one VEVENT per publication, times in UTC."""
    calendar = Calendar()
    calendar.add("prodid", f"-//digipersona//{__version__}//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    stamp = utcnow()
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        start = ensure_utc(item.start)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=item.duration_minutes))
        event.add("summary", item.summary)
        if item.description:
            event.add("description", item.description)
        if item.url:
            event.add("url", item.url)
        event.add("status", STATUS.get(item.state, "TENTATIVE"))
        event.add("categories", [item.state])
        calendar.add_component(event)
    return bytes(calendar.to_ical())
