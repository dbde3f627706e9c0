from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from digipersona.kit.repository import Repository
from digipersona.models import (
    Connection,
    ConnectionState,
    OAuthState,
    Publication,
    PublicationState,
)

_LIVE = [ConnectionState.active.value, ConnectionState.expiring.value]


class ConnectionRepository(Repository[Connection]):
    model = Connection

    def search(
        self, workspace_id: uuid.UUID, *, persona_id: uuid.UUID | None, platform: str | None
    ) -> list[Connection]:
        stmt = select(Connection).where(Connection.workspace_id == workspace_id)
        if persona_id:
            stmt = stmt.where(Connection.persona_id == persona_id)
        if platform:
            stmt = stmt.where(Connection.platform == platform)
        return list(self.session.scalars(stmt.order_by(Connection.platform, Connection.created_at)))

    def find_account(
        self, persona_id: uuid.UUID, platform: str, account_id: str
    ) -> Connection | None:
        return self.session.scalars(
            select(Connection).where(
                Connection.persona_id == persona_id,
                Connection.platform == platform,
                Connection.account_id == account_id,
            )
        ).first()

    def live_platforms_by_persona(
        self, persona_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, dict[str, tuple[str, str]]]:
        """Each persona's platforms with an active (or expiring) connection, and the account's
        display name and handle on each (the first connected one where a persona has several)."""
        out: dict[uuid.UUID, dict[str, tuple[str, str]]] = {}
        ids = list(persona_ids)
        if not ids:
            return out
        rows = self.session.execute(
            select(
                Connection.persona_id,
                Connection.platform,
                Connection.display_name,
                Connection.handle,
            )
            .where(Connection.persona_id.in_(ids), Connection.state.in_(_LIVE))
            .order_by(Connection.created_at)
        )
        for persona_id, platform, display_name, handle in rows:
            out.setdefault(persona_id, {}).setdefault(platform, (display_name, handle))
        return out

    def expiring_without_refresh(self) -> list[Connection]:
        """Live connections whose token expires and cannot be refreshed (LinkedIn)."""
        return list(
            self.session.scalars(
                select(Connection).where(
                    Connection.expires_at.is_not(None),
                    Connection.refresh_token_enc.is_(None),
                    Connection.state.in_(_LIVE),
                )
            )
        )

    def get_for_refresh(self, connection_id: uuid.UUID) -> Connection | None:
        """The connection, locked for the refresh on PostgreSQL (``SELECT ... FOR UPDATE``)."""
        stmt = select(Connection).where(Connection.id == connection_id)
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).first()

    def all_with_tokens(self) -> list[Connection]:
        return list(self.session.scalars(select(Connection).order_by(Connection.id)))


class OAuthStateRepository(Repository[OAuthState]):
    model = OAuthState

    def get_by_hash(self, state_hash: str) -> OAuthState | None:
        return self.session.scalars(
            select(OAuthState).where(OAuthState.state_hash == state_hash)
        ).first()


def held_publications(session: Session, connection_id: uuid.UUID) -> list[Publication]:
    """The connection's publications held while it was paused or disconnected."""
    return list(
        session.scalars(
            select(Publication).where(
                Publication.connection_id == connection_id,
                Publication.state == PublicationState.held.value,
            )
        )
    )


def hold_pending_publications(session: Session, connection_id: uuid.UUID, reason: str) -> None:
    """Hold the connection's scheduled (or unknown-outcome) publications."""
    session.execute(
        update(Publication)
        .where(
            Publication.connection_id == connection_id,
            Publication.state.in_(
                [PublicationState.scheduled.value, PublicationState.unknown.value]
            ),
        )
        .values(state=PublicationState.held.value, last_error=reason)
    )
