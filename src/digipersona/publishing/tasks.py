"""Jobs of the publishing domain (ids only; each re-fetches its rows)."""

from __future__ import annotations

import uuid

from digipersona.publishing.engine import execute, execute_batch
from digipersona.worker import runtime
from digipersona.worker.registry import task


@task("publishing.execute")
def execute_publication(publication_id: str, owner: str) -> str:
    """Publish one claimed publication (a no-op unless ``owner`` still holds its lease)."""
    return execute(runtime.current().engine, uuid.UUID(publication_id), owner)


@task("publishing.execute_batch")
def execute_publications(publication_ids: list[str], owner: str) -> dict[str, str]:
    """Publish a chunk of claimed publications: one transaction to prepare them, concurrent
    platform calls, one transaction to record (rows ``owner`` no longer holds are skipped)."""
    states = execute_batch(
        runtime.current().engine, [uuid.UUID(pid) for pid in publication_ids], owner
    )
    return {str(pid): state for pid, state in states.items()}
