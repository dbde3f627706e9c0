"""Settling a publication without sending it: held, paused connection, or a final state."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from digipersona.kit.words import plural
from digipersona.models import (
    Connection,
    ConnectionState,
    Persona,
    Post,
    Publication,
    PublicationState,
)
from digipersona.notifications.service import notify
from digipersona.publishing.statuses import sync_post_status

HOLD_STATES = {
    ConnectionState.paused.value,
    ConnectionState.revoked.value,
    ConnectionState.needs_reconnect.value,
}


def hold(pub: Publication, reason: str) -> None:
    """Hold the publication until its connection works again."""
    pub.state = PublicationState.held.value
    pub.lease_owner = pub.lease_expires_at = None
    pub.last_error = reason


def pause(
    session: Session,
    connection: Connection,
    state: ConnectionState,
    reason: str,
    *,
    until: datetime | None = None,
) -> None:
    """Pause the connection (``until`` a time, or until reconnected) and say so, once."""
    if connection.state == state.value and connection.state_reason == reason:
        return
    connection.state = state.value
    connection.state_reason = reason
    connection.paused_until = until
    notify(
        session,
        workspace_id=connection.workspace_id,
        kind="connection.paused",
        title=f"{connection.platform} account {connection.handle or connection.account_id} "
        "needs attention",
        body=reason,
        data={"connection_id": str(connection.id), "state": state.value},
    )


def set_final(
    session: Session, pub: Publication, post: Post, state: PublicationState, reason: str | None
) -> None:
    """End the publication in ``state`` (failed, missed); the post's status follows."""
    pub.state = state.value
    pub.lease_owner = pub.lease_expires_at = None
    if reason is not None:
        pub.last_error = reason
    session.flush()
    sync_post_status(session, post)


def late_message(late: timedelta, persona: Persona) -> str:
    """Why a publication too late for its persona was not sent."""
    minutes = int(late.total_seconds() // 60)
    return (
        f"It was {plural(minutes, 'minute')} late and {persona.name} gives up after "
        f"{plural(persona.max_lateness_minutes, 'minute')}, so it was not posted. Reschedule it "
        "if it is "
        "still relevant."
    )
