"""Pure planning of the autopilot: when a rule runs next, which topic and structure come next.

Rules run at the occurrences of their RRULE in the persona's time zone, with the DST rule of
``scheduling.slots`` (a wall time that does not exist moves forward by the gap; a repeated one
uses its first occurrence). A run that was missed (the server was down) runs once when it is
noticed, not once per missed occurrence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from digipersona.exceptions import ValidationFailed
from digipersona.generation import STRUCTURES
from digipersona.scheduling.slots import SEARCH_HORIZON, iter_slots


def next_run_after(rrule: str, tz: str, after: datetime) -> datetime | None:
    """The rule's first occurrence strictly after ``after`` (aware UTC), or None if it ended.

    A rule saved before today's checks that fails them (``INTERVAL=0``) has ended too: it is
    never expanded.
    """
    start = after + timedelta(seconds=1)
    try:
        return next(iter_slots([rrule], tz, start, start + SEARCH_HORIZON), None)
    except ValidationFailed:
        return None


def upcoming(rrule: str, tz: str, after: datetime, n: int) -> list[datetime]:
    """The next ``n`` occurrences of a rule after ``after``."""
    start = after + timedelta(seconds=1)
    try:
        return list(islice(iter_slots([rrule], tz, start, start + SEARCH_HORIZON), n))
    except ValidationFailed:
        return []


def rotate(pool: Sequence[str], cursor: int, avoid: str | None) -> tuple[str, int]:
    """The pool's item at ``cursor`` (skipping ``avoid`` when there is a choice) and the new cursor.

    Walking a fixed order means every item comes round before any repeats; skipping the previous
    draft's value keeps two consecutive drafts from sharing it even across rules and triggers.
    """
    n = len(pool)
    value = pool[cursor % n]
    cursor += 1
    if n > 1 and value == avoid:
        value = pool[cursor % n]
        cursor += 1
    return value, cursor


@dataclass(frozen=True)
class PlannedDraft:
    """One draft a run will ask for."""

    topic: str
    structure: str


@dataclass
class Rotation:
    """The rotation state of one rule or trigger while a run plans its drafts."""

    topics: Sequence[str]
    topic_cursor: int
    structure_cursor: int
    last_topic: str | None
    last_structure: str | None

    def next(self) -> PlannedDraft:
        topic = ""
        if self.topics:
            topic, self.topic_cursor = rotate(self.topics, self.topic_cursor, self.last_topic)
        structure, self.structure_cursor = rotate(
            STRUCTURES, self.structure_cursor, self.last_structure
        )
        self.last_topic, self.last_structure = topic or self.last_topic, structure
        return PlannedDraft(topic=topic, structure=structure)

    def plan(self, count: int) -> list[PlannedDraft]:
        return [self.next() for _ in range(count)]
