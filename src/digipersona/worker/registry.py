"""``@task`` declares a job once; the embedded pool and Celery both run it by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

TASKS: dict[str, Callable[..., Any]] = {}


def task(name: str) -> Callable[[F], F]:
    """Register a job under a dotted name (``publishing.execute``). Arguments must be ids."""

    def decorator(func: F) -> F:
        if name in TASKS and TASKS[name] is not func:
            raise ValueError(f"task {name!r} is declared twice")
        TASKS[name] = func
        return func

    return decorator


def load_all() -> None:
    """Import every domain's tasks module so their jobs are registered."""
    import digipersona.publishing.tasks  # noqa: F401
