"""The scheduler side's housekeeping, one loop for the embedded dispatcher and Celery's scheduler.

Every ``MAINTENANCE_SECONDS``: leases of dead claimers are returned and the scheduler beats.
Where domain jobs run (the embedded dispatcher of ``serve``, ``digipersona scheduler``; not a
publishing helper process), also every ``PERIODIC_SECONDS`` the engine's slow checks, and each
periodic job (``registry.periodic``) is handed out when its interval has passed.
"""

from __future__ import annotations

from collections.abc import Callable

from digipersona.publishing import engine as pub_engine
from digipersona.publishing.engine import PublishingEngine
from digipersona.worker import registry

MAINTENANCE_SECONDS = 5.0
PERIODIC_SECONDS = 60.0


class Maintenance:
    """Runs the housekeeping that is due; ``submit`` starts a periodic job by name (on a local
    pool or as a Celery task). Without ``submit``, only leases and heartbeats."""

    def __init__(
        self,
        engine: PublishingEngine,
        owner: str,
        submit: Callable[[str], object] | None = None,
    ) -> None:
        self.engine = engine
        self.owner = owner
        self.submit = submit
        self._last_maintenance = 0.0
        self._last_periodic = 0.0
        self._clock = registry.PeriodicClock()

    def tick(self, now: float) -> None:
        """Do what is due at monotonic time ``now``."""
        if now - self._last_maintenance < MAINTENANCE_SECONDS:
            return
        self._last_maintenance = now
        pub_engine.release_expired(self.engine)
        pub_engine.beat(self.engine, self.owner, "scheduler")
        if self.submit is None:
            return
        if now - self._last_periodic >= PERIODIC_SECONDS:
            self._last_periodic = now
            pub_engine.periodic_checks(self.engine)
        self.hand_out(now)

    def hand_out(self, now: float) -> None:
        """Submit the periodic jobs whose interval has passed. Domain jobs claim their own rows:
        a second scheduler handing out the same job is harmless."""
        if self.submit is None:
            return
        for name in self._clock.due(now):
            self.submit(name)
