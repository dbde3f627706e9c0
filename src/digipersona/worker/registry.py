"""``@task`` declares a job once; the embedded pool and Celery both run it by name.

``@periodic`` declares a job that the scheduler side runs every N seconds (the embedded
dispatcher on a small background pool, never on its own thread; ``digipersona scheduler`` by
sending the task to Celery). Several schedulers may run at once, so a periodic job must be safe
to run twice concurrently: it claims its rows with an atomic conditional UPDATE, like publishing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

TASKS: dict[str, Callable[..., Any]] = {}


@dataclass(frozen=True)
class PeriodicJob:
    """A task (no arguments) that the scheduler side runs every ``every_seconds``."""

    name: str
    every_seconds: float


PERIODIC: dict[str, PeriodicJob] = {}


def task(name: str) -> Callable[[F], F]:
    """Register a job under a dotted name (``publishing.execute``). Arguments must be ids."""

    def decorator(func: F) -> F:
        if name in TASKS and TASKS[name] is not func:
            raise ValueError(f"task {name!r} is declared twice")
        TASKS[name] = func
        return func

    return decorator


def periodic(name: str, *, every_seconds: float) -> Callable[[F], F]:
    """Register an argument-less job the scheduler side runs every ``every_seconds``."""
    if every_seconds <= 0:
        raise ValueError("every_seconds must be positive")

    def decorator(func: F) -> F:
        task(name)(func)
        PERIODIC[name] = PeriodicJob(name, every_seconds)
        return func

    return decorator


class PeriodicClock:
    """Which periodic jobs are due, by monotonic time; one per scheduler loop."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}

    def due(self, now: float) -> list[str]:
        """Names of jobs whose interval has passed since they were last handed out."""
        names = []
        for job in PERIODIC.values():
            last = self._last.get(job.name)
            if last is None or now - last >= job.every_seconds:
                self._last[job.name] = now
                names.append(job.name)
        return names
