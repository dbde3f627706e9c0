"""Slots in local wall time on real zones, with the one documented DST rule."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from digipersona.exceptions import Conflict, ValidationFailed
from digipersona.scheduling.describe import describe_slot_instant, describe_slots
from digipersona.scheduling.rrules import validate_rrule
from digipersona.scheduling.slots import (
    DEFAULT_SLOTS,
    apply_jitter,
    iter_slots,
    next_free_slot,
    validate_timezone,
)


def local(slots: list[datetime], tz: str) -> list[str]:
    return [s.astimezone(ZoneInfo(tz)).strftime("%a %Y-%m-%d %H:%M %Z") for s in slots]


def between(rules: list[str], tz: str, start: str, end: str) -> list[datetime]:
    return list(
        iter_slots(
            rules,
            tz,
            datetime.fromisoformat(start).replace(tzinfo=UTC),
            datetime.fromisoformat(end).replace(tzinfo=UTC),
        )
    )


def test_default_slots_stay_at_0630_local_across_both_berlin_changes() -> None:
    slots = between(DEFAULT_SLOTS, "Europe/Berlin", "2026-03-20", "2026-11-05")
    assert all(s.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M") == "06:30" for s in slots)
    assert {s.astimezone(ZoneInfo("Europe/Berlin")).strftime("%a") for s in slots} == {"Tue", "Thu"}
    utc_hours = {s.strftime("%H:%M") for s in slots}
    assert utc_hours == {"05:30", "04:30"}  # winter CET and summer CEST


def test_new_york_spring_forward_gap_moves_forward_by_the_gap() -> None:
    [slot] = between(
        ["FREQ=DAILY;BYHOUR=2;BYMINUTE=30"],
        "America/New_York",
        "2026-03-08T00:00",
        "2026-03-08T23:00",
    )
    assert local([slot], "America/New_York") == ["Sun 2026-03-08 03:30 EDT"]


def test_new_york_fall_back_uses_the_first_occurrence() -> None:
    [slot] = between(
        ["FREQ=DAILY;BYHOUR=1;BYMINUTE=30"],
        "America/New_York",
        "2026-11-01T00:00",
        "2026-11-01T23:00",
    )
    assert local([slot], "America/New_York") == ["Sun 2026-11-01 01:30 EDT"]
    assert slot == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_london_summer_and_winter() -> None:
    slots = between(["FREQ=WEEKLY;BYDAY=MO;BYHOUR=9"], "Europe/London", "2026-03-23", "2026-04-07")
    assert local(slots, "Europe/London") == [
        "Mon 2026-03-23 09:00 GMT",
        "Mon 2026-03-30 09:00 BST",
        "Mon 2026-04-06 09:00 BST",
    ]


def test_lord_howe_half_hour_shift() -> None:
    # Lord Howe moves its clock by 30 minutes: 02:00 -> 02:30 on the first Sunday of October.
    [slot] = between(
        ["FREQ=DAILY;BYHOUR=2;BYMINUTE=15"],
        "Australia/Lord_Howe",
        "2026-10-03T12:00",
        "2026-10-04T12:00",
    )
    assert slot.astimezone(ZoneInfo("Australia/Lord_Howe")).strftime("%H:%M") == "02:45"
    before, after = between(
        ["FREQ=DAILY;BYHOUR=9"], "Australia/Lord_Howe", "2026-10-02T12:00", "2026-10-04T12:00"
    )[:2]
    assert (after - before) == timedelta(hours=23, minutes=30)


def test_kathmandu_quarter_hour_offset() -> None:
    [slot] = between(
        ["FREQ=DAILY;BYHOUR=6;BYMINUTE=30"],
        "Asia/Kathmandu",
        "2026-06-01T00:00",
        "2026-06-01T23:59",
    )
    assert slot == datetime(2026, 6, 1, 0, 45, tzinfo=UTC)  # +05:45


def test_a_zone_that_changed_its_rules() -> None:
    # Europe/Volgograd: UTC+4 until 2020-12-27, then UTC+3 (tzdata 2020e).
    before = between(
        ["FREQ=DAILY;BYHOUR=12"], "Europe/Volgograd", "2020-12-20T00:00", "2020-12-21T00:00"
    )
    after = between(
        ["FREQ=DAILY;BYHOUR=12"], "Europe/Volgograd", "2021-01-05T00:00", "2021-01-06T00:00"
    )
    assert before[0].hour == 8
    assert after[0].hour == 9


def test_several_rules_merge_in_order_without_duplicates() -> None:
    slots = between(
        ["FREQ=WEEKLY;BYDAY=TU;BYHOUR=9", "FREQ=DAILY;BYHOUR=9", "FREQ=WEEKLY;BYDAY=TU;BYHOUR=17"],
        "UTC",
        "2026-06-01",
        "2026-06-04",
    )
    assert [s.strftime("%d %H") for s in slots] == ["01 09", "02 09", "02 17", "03 09"]


def test_next_free_slot_skips_taken_and_ends() -> None:
    start = datetime(2026, 6, 1, tzinfo=UTC)  # a Monday
    first = next_free_slot(DEFAULT_SLOTS, "UTC", start, set())
    assert first == datetime(2026, 6, 2, 6, 30, tzinfo=UTC)
    second = next_free_slot(DEFAULT_SLOTS, "UTC", start, {first})
    assert second == datetime(2026, 6, 4, 6, 30, tzinfo=UTC)
    with pytest.raises(Conflict, match="No free posting slot"):
        next_free_slot(["FREQ=DAILY;COUNT=2;BYHOUR=9"], "UTC", start, lambda s: True)


def test_jitter_is_bounded_and_zero_means_exact() -> None:
    slot = datetime(2026, 6, 2, 6, 30, tzinfo=UTC)
    rng = random.Random(1)
    assert apply_jitter(slot, 0, rng) == slot
    moved = [apply_jitter(slot, 10, rng) for _ in range(200)]
    assert all(timedelta(0) <= m - slot <= timedelta(minutes=10) for m in moved)
    assert len(set(moved)) > 50


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ("", "empty"),
        ("BYDAY=TU", "no FREQ"),
        ("FREQ=SECONDLY", "HOURLY or coarser"),
        ("FREQ=WEEKLY;BYDAY=XX", "not a valid RRULE"),
        ("FREQ=WEEKLY;BYHOUR=25", "not a valid RRULE"),
        ("DTSTART:20260101T000000\nRRULE:FREQ=DAILY", "DTSTART"),
        ("nonsense", "KEY=VALUE"),
    ],
)
def test_invalid_rules_say_what_is_wrong(rule: str, fragment: str) -> None:
    with pytest.raises(ValidationFailed, match=fragment):
        validate_rrule(rule)


def test_rules_are_normalised() -> None:
    assert validate_rrule("RRULE:freq=weekly;byday=tu,th;byhour=6;byminute=30") == DEFAULT_SLOTS[0]


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../etc/passwd", "", "Berlin"])
def test_invalid_timezones(zone: str) -> None:
    with pytest.raises(ValidationFailed):
        validate_timezone(zone)


def test_describe() -> None:
    assert describe_slots(DEFAULT_SLOTS, "Europe/Berlin") == [
        "Tuesdays and Thursdays at 06:30 Europe/Berlin"
    ]
    assert describe_slots(["FREQ=DAILY;BYHOUR=9,17;BYMINUTE=0,30"], "UTC") == [
        "Every day at 09:00, 09:30, 17:00 and 17:30 UTC"
    ]
    assert describe_slots(["FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=8"], "UTC") == [
        "Weekdays at 08:00 UTC"
    ]
    assert describe_slots(["not a rule"], "UTC") == ["not a rule UTC"]
    assert (
        describe_slot_instant(datetime(2026, 11, 24, 5, 30, tzinfo=UTC), "Europe/Berlin")
        == "Tue 24 Nov 06:30 (Europe/Berlin)"
    )
