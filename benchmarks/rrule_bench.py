"""RRULE checks and expansion: what a hostile or careless rule costs, against an ordinary one.

Run: ``.venv/bin/python benchmarks/rrule_bench.py``. Prints, for each rule, the median time of
``validate_rrule`` (the save-time check, including the search for an occurrence in the next two
years) and of expanding a year of slots, and the ratio to the ordinary default slot rule in the
same run. Before the bounded expansion, FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30 took 6-7 s and
FREQ=WEEKLY;INTERVAL=0 never returned.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from datetime import UTC, datetime, timedelta

from digipersona.exceptions import ValidationFailed
from digipersona.scheduling.rrules import normalise_rrule, validate_rrule
from digipersona.scheduling.slots import iter_slots

BASELINE = "FREQ=WEEKLY;BYDAY=TU,TH;BYHOUR=6;BYMINUTE=30"
RULES = [
    BASELINE,
    "FREQ=HOURLY;BYMINUTE=0,15,30,45",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=9",
    "FREQ=WEEKLY;INTERVAL=0",
    "FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31",
    "FREQ=HOURLY;BYSETPOS=3;BYHOUR=1",
]
REPEAT = 7


def _median(call: object) -> float:
    times = []
    for _ in range(REPEAT):
        normalise_rrule.cache_clear()
        started = time.perf_counter()
        with contextlib.suppress(ValidationFailed):
            call()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    now = datetime.now(UTC)
    rows = []
    for rule in RULES:
        check = _median(lambda rule=rule: validate_rrule(rule))
        expand = _median(
            lambda rule=rule: list(
                iter_slots([rule], "Europe/Berlin", now, now + timedelta(days=366))
            )
        )
        rows.append((rule, check, expand))
    base_check, base_expand = rows[0][1], rows[0][2]
    print(f"{'rule':48} {'check ms':>9} {'x base':>7} {'expand ms':>10} {'x base':>7}")
    for rule, check, expand in rows:
        print(
            f"{rule:48} {check * 1000:9.2f} {check / base_check:7.1f} "
            f"{expand * 1000:10.2f} {expand / base_expand:7.1f}"
        )


if __name__ == "__main__":
    main()
