"""All SQL of the interactions domain: the inbox rows and each connection's poll state."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Numeric, and_, cast, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from digipersona.kit.repository import Page, Repository
from digipersona.models import (
    Connection,
    ConnectionState,
    Interaction,
    InteractionPoll,
    Publication,
    PublicationState,
    WorkspaceLeadModel,
)

POLLABLE_STATES = (ConnectionState.active.value, ConnectionState.expiring.value)


def _insert(session: Session, table: Any) -> Any:
    """An INSERT that can skip conflicting rows on both supported databases."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


class InteractionRepository(Repository[Interaction]):
    model = Interaction

    def insert_new(self, rows: Sequence[dict[str, Any]]) -> list[uuid.UUID]:
        """Insert rows not stored yet (one per connection and platform id); the new ids."""
        if not rows:
            return []
        stmt = (
            _insert(self.session, Interaction)
            .values(list(rows))
            .on_conflict_do_nothing(index_elements=["connection_id", "external_id"])
            .returning(Interaction.id)
        )
        return list(self.session.scalars(stmt))

    def existing_external_ids(self, connection_id: uuid.UUID, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` this connection already stored."""
        if not ids:
            return set()
        return set(
            self.session.scalars(
                select(Interaction.external_id).where(
                    Interaction.connection_id == connection_id,
                    Interaction.external_id.in_(list(ids)),
                )
            )
        )

    def search(
        self,
        workspace_id: uuid.UUID,
        *,
        persona_id: uuid.UUID | None = None,
        platform: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        min_score: int | None = None,
        is_lead: bool | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        q: str | None = None,
        limit: int = 50,
        offset: int = 0,
        cursor: str | None = None,
    ) -> Page[Interaction]:
        """The workspace's inbox, newest first, filtered (ix_interactions_*_created)."""
        stmt = select(Interaction).where(Interaction.workspace_id == workspace_id)
        if persona_id is not None:
            stmt = stmt.where(Interaction.persona_id == persona_id)
        if platform:
            stmt = stmt.where(Interaction.platform == platform)
        if kind:
            stmt = stmt.where(Interaction.kind == kind)
        if status:
            stmt = stmt.where(Interaction.status == status)
        if min_score is not None:
            stmt = stmt.where(Interaction.lead_score >= min_score)
        if is_lead is not None:
            stmt = stmt.where(Interaction.is_lead.is_(is_lead))
        if since is not None:
            stmt = stmt.where(Interaction.platform_created_at >= since)
        if until is not None:
            stmt = stmt.where(Interaction.platform_created_at < until)
        if q:
            pattern = _like(q)
            stmt = stmt.where(
                or_(
                    func.lower(Interaction.text).like(pattern, escape="\\"),
                    func.lower(Interaction.author_name).like(pattern, escape="\\"),
                    func.lower(Interaction.author_handle).like(pattern, escape="\\"),
                )
            )
        # Platform times are often whole seconds: ties go to the newer (longer, larger) id, and
        # the row id makes the order total for the cursor.
        return self.keyset(
            stmt,
            [
                Interaction.platform_created_at,
                func.length(Interaction.external_id, type_=Integer),
                Interaction.external_id,
                Interaction.id,
            ],
            descending=True,
            limit=limit,
            cursor=cursor,
            offset=offset,
        )

    def set_status(self, workspace_id: uuid.UUID, ids: Sequence[uuid.UUID], status: str) -> int:
        """Set the status of the workspace's interactions among ``ids``; how many changed."""
        result = self.session.execute(
            update(Interaction)
            .where(Interaction.workspace_id == workspace_id, Interaction.id.in_(list(ids)))
            .values(status=status),
            execution_options={"synchronize_session": False},
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def in_workspace(self, workspace_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Which of ``ids`` belong to the workspace."""
        return set(
            self.session.scalars(
                select(Interaction.id).where(
                    Interaction.workspace_id == workspace_id, Interaction.id.in_(list(ids))
                )
            )
        )

    def replied_by_published(self) -> list[Interaction]:
        """Interactions whose reply post has a published publication but are not ``replied``."""
        return list(
            self.session.scalars(
                select(Interaction)
                .join(Publication, Publication.post_id == Interaction.reply_post_id)
                .where(
                    Interaction.status != "replied",
                    Publication.state == PublicationState.published.value,
                )
            )
        )

    def publications_by_external_id(
        self, connection_id: uuid.UUID, external_ids: Sequence[str]
    ) -> dict[str, uuid.UUID]:
        """Our publications (by external id) on this connection among ``external_ids``."""
        wanted = [e for e in external_ids if e]
        if not wanted:
            return {}
        rows = self.session.execute(
            select(Publication.external_id, Publication.id).where(
                Publication.connection_id == connection_id,
                Publication.external_id.in_(wanted),
            )
        ).all()
        return {str(external_id): pid for external_id, pid in rows}


class PollRepository(Repository[InteractionPoll]):
    model = InteractionPoll

    def get_by_connection(self, connection_id: uuid.UUID) -> InteractionPoll | None:
        return self.session.get(InteractionPoll, connection_id)

    def ensure_rows(self, now: datetime) -> None:
        """A poll row for every pollable connection; a reconnected one is worth a new try."""
        missing = self.session.execute(
            select(Connection.id, Connection.workspace_id, Connection.platform)
            .outerjoin(InteractionPoll, InteractionPoll.connection_id == Connection.id)
            .where(
                InteractionPoll.connection_id.is_(None),
                Connection.state.in_(POLLABLE_STATES),
            )
        ).all()
        if missing:
            stmt = (
                _insert(self.session, InteractionPoll)
                .values(
                    [
                        {
                            "connection_id": cid,
                            "workspace_id": wid,
                            "platform": platform,
                            "next_poll_at": now,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for cid, wid, platform in missing
                    ]
                )
                .on_conflict_do_nothing(index_elements=["connection_id"])
            )
            self.session.execute(stmt)
        reconnected = select(Connection.id).where(
            Connection.id == InteractionPoll.connection_id,
            Connection.token_version != InteractionPoll.token_version,
        )
        self.session.execute(
            update(InteractionPoll)
            .where(InteractionPoll.unsupported_reason.is_not(None), reconnected.exists())
            .values(unsupported_reason=None, next_poll_at=now, updated_at=now),
            execution_options={"synchronize_session": False},
        )

    def due(self, now: datetime, limit: int) -> list[uuid.UUID]:
        """Connections whose poll is due, unleased and supported (candidates to claim)."""
        return list(
            self.session.scalars(
                select(InteractionPoll.connection_id)
                .join(Connection, Connection.id == InteractionPoll.connection_id)
                .where(
                    InteractionPoll.next_poll_at <= now,
                    InteractionPoll.unsupported_reason.is_(None),
                    or_(
                        InteractionPoll.lease_expires_at.is_(None),
                        InteractionPoll.lease_expires_at < now,
                    ),
                    Connection.state.in_(POLLABLE_STATES),
                )
                .order_by(InteractionPoll.next_poll_at)
                .limit(limit)
            )
        )

    def claim(self, connection_id: uuid.UUID, owner: str, now: datetime, lease: timedelta) -> bool:
        """Atomic conditional UPDATE: True only for the one claimer that moved the row."""
        result = self.session.execute(
            update(InteractionPoll)
            .where(
                InteractionPoll.connection_id == connection_id,
                InteractionPoll.next_poll_at <= now,
                InteractionPoll.unsupported_reason.is_(None),
                or_(
                    InteractionPoll.lease_expires_at.is_(None),
                    InteractionPoll.lease_expires_at < now,
                ),
            )
            .values(lease_owner=owner, lease_expires_at=now + lease, updated_at=now),
            execution_options={"synchronize_session": False},
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    def finish(self, connection_id: uuid.UUID, owner: str, **values: Any) -> bool:
        """Record the outcome and release the lease, only if ``owner`` still holds it."""
        result = self.session.execute(
            update(InteractionPoll)
            .where(
                and_(
                    InteractionPoll.connection_id == connection_id,
                    InteractionPoll.lease_owner == owner,
                )
            )
            .values(lease_owner=None, lease_expires_at=None, **values),
            execution_options={"synchronize_session": False},
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    def for_workspace(
        self, workspace_id: uuid.UUID
    ) -> list[tuple[Connection, InteractionPoll | None]]:
        """Every connection of the workspace with its poll state, if it was polled yet."""
        rows = self.session.execute(
            select(Connection, InteractionPoll)
            .outerjoin(InteractionPoll, InteractionPoll.connection_id == Connection.id)
            .where(Connection.workspace_id == workspace_id)
            .order_by(Connection.platform, Connection.handle)
        ).all()
        return [(connection, poll) for connection, poll in rows]

    def add_read_spend(self, connection_id: uuid.UUID, month: str, cost: float) -> None:
        """Add billed read costs to the connection's monthly spend (atomic, no lost update)."""
        same_month = self.session.execute(
            update(Connection)
            .where(Connection.id == connection_id, Connection.spend_month == month)
            .values(spend_usd=func.round(cast(Connection.spend_usd + cost, Numeric(10, 4)), 4)),
            execution_options={"synchronize_session": False},
        )
        if not int(getattr(same_month, "rowcount", 0) or 0):
            self.session.execute(
                update(Connection)
                .where(Connection.id == connection_id)
                .values(spend_month=month, spend_usd=round(cost, 4)),
                execution_options={"synchronize_session": False},
            )

    def recent_post_ids(self, connection_id: uuid.UUID, since: datetime, limit: int) -> list[str]:
        """External ids of this connection's posts published since ``since``, newest first."""
        return [
            str(e)
            for e in self.session.scalars(
                select(Publication.external_id)
                .where(
                    Publication.connection_id == connection_id,
                    Publication.state == PublicationState.published.value,
                    Publication.external_id.is_not(None),
                    Publication.published_at >= since,
                    # Our own replies are comments, not posts others comment on.
                    ~select(Interaction.id)
                    .where(Interaction.reply_post_id == Publication.post_id)
                    .exists(),
                )
                .order_by(Publication.published_at.desc())
                .limit(limit)
            )
        ]


class LeadLabelRepository:
    """Inbox lead labels and the workspace's own lead model."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def labelled(self, workspace_id: uuid.UUID) -> list[tuple[uuid.UUID, str, bool]]:
        """Every labelled interaction of the workspace: (id, text, label), oldest label first."""
        rows = self.session.execute(
            select(Interaction.id, Interaction.text, Interaction.lead_label)
            .where(Interaction.workspace_id == workspace_id, Interaction.lead_label.is_not(None))
            .order_by(Interaction.lead_labelled_at, Interaction.id)
        )
        return [(row[0], row[1], bool(row[2])) for row in rows]

    def recent_labels(self, workspace_id: uuid.UUID, per_class: int) -> list[tuple[str, bool]]:
        """The most recently labelled texts: up to ``per_class`` leads and as many non-leads."""
        out: list[tuple[str, bool]] = []
        for label in (True, False):
            rows = self.session.scalars(
                select(Interaction.text)
                .where(Interaction.workspace_id == workspace_id, Interaction.lead_label == label)
                .order_by(Interaction.lead_labelled_at.desc())
                .limit(per_class)
            )
            out.extend((text, label) for text in rows if text.strip())
        return out

    def latest_label_at(self, workspace_id: uuid.UUID) -> datetime | None:
        """When the workspace last labelled an interaction."""
        return self.session.scalar(
            select(func.max(Interaction.lead_labelled_at)).where(
                Interaction.workspace_id == workspace_id
            )
        )

    def model_row(self, workspace_id: uuid.UUID) -> WorkspaceLeadModel | None:
        """The workspace's own lead model, if it has one."""
        return self.session.get(WorkspaceLeadModel, workspace_id)

    def save_model(
        self,
        workspace_id: uuid.UUID,
        data: bytes,
        metrics: dict[str, Any],
        label_count: int,
        now: datetime,
    ) -> WorkspaceLeadModel:
        """Store (or replace) the workspace's lead model."""
        row = self.model_row(workspace_id)
        if row is None:
            row = WorkspaceLeadModel(workspace_id=workspace_id, model=data, trained_at=now)
            self.session.add(row)
        row.model = data
        row.metrics = metrics
        row.label_count = label_count
        row.trained_at = now
        self.session.flush()
        return row

    def workspaces_to_retrain(self, trained_before: datetime) -> list[uuid.UUID]:
        """Workspaces with labels newer than their model, whose model is older than the bound."""
        latest = (
            select(
                Interaction.workspace_id.label("workspace_id"),
                func.max(Interaction.lead_labelled_at).label("latest"),
            )
            .where(Interaction.lead_labelled_at.is_not(None))
            .group_by(Interaction.workspace_id)
            .subquery()
        )
        stmt = (
            select(latest.c.workspace_id)
            .outerjoin(WorkspaceLeadModel, WorkspaceLeadModel.workspace_id == latest.c.workspace_id)
            .where(
                or_(
                    WorkspaceLeadModel.workspace_id.is_(None),
                    and_(
                        WorkspaceLeadModel.trained_at < latest.c.latest,
                        WorkspaceLeadModel.trained_at < trained_before,
                    ),
                )
            )
        )
        return list(self.session.scalars(stmt))
