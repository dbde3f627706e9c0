"""Every domain's jobs, imported once so they register themselves (``worker/registry.py``).

The job engines (the embedded dispatcher, Celery) import this module at start; the registry
itself imports nothing from the domains, so a domain's ``tasks.py`` can use it freely.
"""

from __future__ import annotations

from digipersona.analytics import tasks as analytics_tasks
from digipersona.autopilot import tasks as autopilot_tasks
from digipersona.interactions import tasks as interactions_tasks
from digipersona.notifications import tasks as notifications_tasks
from digipersona.publishing import tasks as publishing_tasks
from digipersona.worker import registry

MODULES = (
    analytics_tasks,
    autopilot_tasks,
    interactions_tasks,
    notifications_tasks,
    publishing_tasks,
)


def load_all() -> dict[str, object]:
    """Every registered job by name (importing this module registered them)."""
    return dict(registry.TASKS)
