"""Every domain's jobs, loaded so they register themselves (``worker/registry.py``).

The job engines call ``load_all`` at start (the embedded dispatcher only when it runs the
periodic jobs: a publish-only helper process never pays for importing them). The registry itself
imports nothing from the domains, so a domain's ``tasks.py`` can use it freely. A domain with
jobs adds its ``tasks`` module here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from digipersona.worker import registry

MODULES = (
    "digipersona.analytics.tasks",
    "digipersona.autopilot.tasks",
    "digipersona.interactions.tasks",
    "digipersona.notifications.tasks",
    "digipersona.publishing.tasks",
)


def load_all() -> dict[str, Callable[..., Any]]:
    """Import every domain's tasks module; returns every registered job by name."""
    for name in MODULES:
        importlib.import_module(name)
    return dict(registry.TASKS)
