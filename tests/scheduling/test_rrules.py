"""RRULEs from users: refused when they cannot make sense, expanded with a bound always."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from dateutil.rrule import rrulestr

from digipersona.exceptions import ValidationFailed
from digipersona.scheduling.rrules import normalise_rrule, occurrences, validate_rrule
from digipersona.scheduling.slots import iter_slots

NOW = datetime(2026, 12, 7, 12, 0)


def finishes(call: Callable[[], Any], timeout: float = 60) -> list[Any]:
    """Run ``call`` in a thread; fail (instead of hanging the suite) if it never returns."""
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(call())
        except Exception as exc:
            out.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "the computation never finished"
    return out


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL must be between 1 and 1000"),
        ("FREQ=DAILY;INTERVAL=-1", "INTERVAL must be between 1 and 1000"),
        ("FREQ=DAILY;INTERVAL=1001", "INTERVAL must be between 1 and 1000"),
        ("FREQ=DAILY;INTERVAL=two", "INTERVAL must be a whole number"),
        ("FREQ=DAILY;COUNT=0", "COUNT must be between 1 and 10000"),
        ("FREQ=DAILY;COUNT=99999999999", "COUNT must be between 1 and 10000"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20270101", "COUNT or UNTIL, not both"),
        ("FREQ=DAILY;UNTIL=99991231", "more than a century ahead"),
        ("FREQ=HOURLY;BYSECOND=1,2,3", "BYSECOND"),
        ("FREQ=HOURLY;BYMINUTE=0,10,20,30,40", "at most 4 BYMINUTE"),
        ("FREQ=YEARLY;BYEASTER=0", "BYEASTER is not supported"),
        ("FREQ=MINUTELY", "HOURLY or coarser"),
        ("FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30", "no occurrence in the next two years"),
        ("FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31", "no occurrence in the next two years"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", "no occurrence in the next two years"),
        ("FREQ=DAILY;UNTIL=20200101", "no occurrence in the next two years"),
        ("FREQ=WEEKLY;BYDAY=XX", "not a valid RRULE"),
        ("FREQ=DAILY;" + "BYHOUR=1;" * 100, "at most 500 characters"),
    ],
)
def test_rules_that_make_no_sense_are_refused_at_once(rule: str, fragment: str) -> None:
    (result,) = finishes(lambda: validate_rrule(rule, now=NOW))
    assert isinstance(result, ValidationFailed), result
    assert fragment in result.message


def test_sensible_rules_pass_and_are_normalised() -> None:
    assert validate_rrule("rrule:freq=weekly;interval=2;byday=tu", now=NOW) == (
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"
    )
    # Rare but real: 29 February comes round within two years of 2026-12-07.
    assert validate_rrule("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=9", now=NOW)
    assert validate_rrule("FREQ=HOURLY;BYMINUTE=0,15,30,45", now=NOW)
    assert validate_rrule("FREQ=DAILY;UNTIL=20270601T000000", now=NOW)


def test_a_rule_saved_before_these_checks_is_refused_where_it_is_expanded() -> None:
    # INTERVAL=0 makes python-dateutil spin forever; it must never reach it.
    (result,) = finishes(
        lambda: list(
            iter_slots(
                ["FREQ=WEEKLY;INTERVAL=0"],
                "UTC",
                datetime(2026, 1, 1).astimezone(),
                datetime(2026, 2, 1).astimezone(),
            )
        )
    )
    assert isinstance(result, ValidationFailed)
    assert "INTERVAL" in result.message


def test_a_rule_that_never_occurs_ends_an_unbounded_slot_search() -> None:
    # No end given: the search is still bounded (two years, and a bounded walk past them).
    (result,) = finishes(
        lambda: list(
            iter_slots(["FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30"], "UTC", datetime.now().astimezone())
        )
    )
    assert result == []


# Each rule and window expanded by the bounded search and by plain python-dateutil (which
# terminates for these, as every rule here occurs): the results must be identical.
EQUIVALENCE_RULES = [
    "FREQ=WEEKLY;BYDAY=TU,TH;BYHOUR=6;BYMINUTE=30",
    "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,FR;BYHOUR=9",
    "FREQ=DAILY;INTERVAL=5;BYHOUR=7,19",
    "FREQ=HOURLY;INTERVAL=7;BYMINUTE=15",
    "FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=16",
    "FREQ=MONTHLY;BYMONTHDAY=31;BYHOUR=8",
    "FREQ=MONTHLY;INTERVAL=5;BYSETPOS=2;BYDAY=MO,TU,WE,TH,FR;BYHOUR=10",
    "FREQ=YEARLY;BYWEEKNO=1,53;BYDAY=MO;BYHOUR=8",
    "FREQ=YEARLY;BYYEARDAY=60,366;BYHOUR=12",
    "FREQ=YEARLY;INTERVAL=3;BYMONTH=2;BYMONTHDAY=29",
    "FREQ=WEEKLY;WKST=SU;INTERVAL=2;BYDAY=SU,MO;BYHOUR=6",
    "FREQ=DAILY;COUNT=40;BYHOUR=10",
    "FREQ=DAILY;UNTIL=20280301T000000;BYHOUR=10",
]
WINDOWS = [
    (datetime(2026, 12, 7, 9, 17), datetime(2029, 1, 8)),
    (datetime(2027, 12, 30, 23, 0), datetime(2029, 2, 28)),
    (datetime(2098, 11, 1), datetime(2101, 3, 1)),  # across 2100, which is no leap year
    (datetime(1999, 12, 25), datetime(2001, 3, 1)),  # across 2000, which is one
]


@pytest.mark.parametrize("rule", EQUIVALENCE_RULES)
@pytest.mark.parametrize(("start", "end"), WINDOWS)
def test_the_bounded_search_finds_exactly_what_dateutil_finds(
    rule: str, start: datetime, end: datetime
) -> None:
    plain = []
    for occurrence in rrulestr(rule, dtstart=start):
        if occurrence >= end:
            break
        plain.append(occurrence)
    assert list(occurrences(rule, start, end)) == plain
    assert normalise_rrule(rule) == rule


def test_the_bounded_search_is_cheap_for_a_rule_that_never_occurs() -> None:
    """Counted in calendar periods rather than timed: the walk past the window is short."""
    from dateutil import rrule as dateutil_rrule

    calls = 0
    original = dateutil_rrule._iterinfo.ddayset

    def counting(self: Any, *args: Any) -> Any:
        nonlocal calls
        calls += 1
        return original(self, *args)

    dateutil_rrule._iterinfo.ddayset = counting  # type: ignore[method-assign]
    try:
        start = NOW
        assert (
            list(
                occurrences(
                    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", start, start + timedelta(days=732)
                )
            )
            == []
        )
    finally:
        dateutil_rrule._iterinfo.ddayset = original  # type: ignore[method-assign]
    # Two years of days plus at most a few decades' walk (not the ~2.9 million days to 9999).
    assert 0 < calls < 60 * 366, calls
