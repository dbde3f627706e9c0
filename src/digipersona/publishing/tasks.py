"""Jobs of the publishing domain (ids only; each re-fetches its rows)."""

from __future__ import annotations

import uuid

from digipersona.publishing import engine
from digipersona.worker import runtime
from digipersona.worker.registry import task


@task("publishing.execute")
def execute_publication(publication_id: str, owner: str) -> str:
    """Publish one claimed publication (a no-op unless ``owner`` still holds its lease)."""
    return engine.execute(runtime.current().engine, uuid.UUID(publication_id), owner)
