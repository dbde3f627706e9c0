"""Every query of the notifications domain."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, or_, select, update
from sqlalchemy.orm import Session

from digipersona.kit.repository import Page, Repository
from digipersona.models import (
    Membership,
    Notification,
    NotificationDelivery,
    NotificationPreference,
    NotificationWebhook,
    PushSubscription,
    Role,
    User,
)


@dataclass(frozen=True)
class Member:
    """A workspace member as notification routing needs them."""

    user_id: uuid.UUID
    email: str
    role: Role
    choices: dict[str, Any]


def members(session: Session, workspace_id: uuid.UUID) -> list[Member]:
    """Active members of a workspace with their stored preference choices."""
    stmt = (
        select(Membership.user_id, User.email, Membership.role, NotificationPreference.choices)
        .join(User, User.id == Membership.user_id)
        .outerjoin(
            NotificationPreference,
            (NotificationPreference.workspace_id == Membership.workspace_id)
            & (NotificationPreference.user_id == Membership.user_id),
        )
        .where(Membership.workspace_id == workspace_id, User.is_active.is_(True))
        .order_by(User.email)
    )
    return [
        Member(user_id=uid, email=email, role=Role(role), choices=dict(choices or {}))
        for uid, email, role, choices in session.execute(stmt)
    ]


def preference(
    session: Session, workspace_id: uuid.UUID, user_id: uuid.UUID
) -> NotificationPreference | None:
    return session.scalars(
        select(NotificationPreference).where(
            NotificationPreference.workspace_id == workspace_id,
            NotificationPreference.user_id == user_id,
        )
    ).first()


def save_preference(
    session: Session, workspace_id: uuid.UUID, user_id: uuid.UUID, choices: dict[str, Any]
) -> NotificationPreference:
    row = preference(session, workspace_id, user_id) or NotificationPreference(
        workspace_id=workspace_id, user_id=user_id
    )
    row.choices = choices
    session.add(row)
    session.flush()
    return row


def add_notifications(session: Session, rows: list[Notification]) -> None:
    session.add_all(rows)
    session.flush()


def _visible_to(workspace_id: uuid.UUID, user_id: uuid.UUID, unread_only: bool) -> Select[Any]:
    stmt = select(Notification).where(
        Notification.workspace_id == workspace_id,
        or_(Notification.user_id == user_id, Notification.user_id.is_(None)),
    )
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return stmt


class NotificationRepository(Repository[Notification]):
    model = Notification

    def page_for(
        self,
        workspace_id: uuid.UUID,
        user_id: uuid.UUID,
        *,
        unread_only: bool = False,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Notification]:
        """A member's notifications (their own and workspace-wide ones), newest first.

        ix_notifications_workspace_created (ix_notifications_workspace_unread for unread ones)
        serves the order; no total (a long history would be counted for nothing).
        """
        return self.keyset(
            _visible_to(workspace_id, user_id, unread_only),
            [Notification.created_at, Notification.id],
            descending=True,
            limit=limit,
            cursor=cursor,
            with_total=False,
        )

    def unread_count(self, workspace_id: uuid.UUID, user_id: uuid.UUID, cap: int) -> int | None:
        """How many of the member's notifications are unread, if at most ``cap``, else None."""
        return self.count_capped(_visible_to(workspace_id, user_id, True), cap)


def notification_of(
    session: Session, workspace_id: uuid.UUID, user_id: uuid.UUID, notification_id: uuid.UUID
) -> Notification | None:
    row = session.get(Notification, notification_id)
    if row is None or row.workspace_id != workspace_id:
        return None
    if row.user_id is not None and row.user_id != user_id:
        return None
    return row


def mark_all_read(
    session: Session, workspace_id: uuid.UUID, user_id: uuid.UUID, at: datetime
) -> int:
    result = session.execute(
        update(Notification)
        .where(
            Notification.workspace_id == workspace_id,
            Notification.user_id == user_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=at)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def push_subscriptions(
    session: Session, workspace_id: uuid.UUID, user_ids: list[uuid.UUID]
) -> list[PushSubscription]:
    return list(
        session.scalars(
            select(PushSubscription).where(
                PushSubscription.workspace_id == workspace_id,
                PushSubscription.user_id.in_(user_ids),
            )
        )
    )


def webhook(session: Session, workspace_id: uuid.UUID) -> NotificationWebhook | None:
    return session.scalars(
        select(NotificationWebhook).where(NotificationWebhook.workspace_id == workspace_id)
    ).first()


def save_webhook(
    session: Session, workspace_id: uuid.UUID, url: str, secret_enc: str | None
) -> NotificationWebhook:
    row = webhook(session, workspace_id)
    if row is None:
        assert secret_enc is not None
        row = NotificationWebhook(workspace_id=workspace_id, url=url, secret_enc=secret_enc)
    else:
        row.url = url
        if secret_enc is not None:
            row.secret_enc = secret_enc
    session.add(row)
    session.flush()
    return row


def delete_webhook(session: Session, workspace_id: uuid.UUID) -> bool:
    row = webhook(session, workspace_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


# -- push subscriptions ----------------------------------------------------------------------
def subscription_of(
    session: Session, workspace_id: uuid.UUID, user_id: uuid.UUID, endpoint: str
) -> PushSubscription | None:
    return session.scalars(
        select(PushSubscription).where(
            PushSubscription.workspace_id == workspace_id,
            PushSubscription.user_id == user_id,
            PushSubscription.endpoint == endpoint,
        )
    ).first()


def subscriptions_of(
    session: Session, workspace_id: uuid.UUID, user_id: uuid.UUID
) -> list[PushSubscription]:
    return list(
        session.scalars(
            select(PushSubscription).where(
                PushSubscription.user_id == user_id,
                PushSubscription.workspace_id == workspace_id,
            )
        )
    )


def delete_subscriptions(session: Session, ids: list[uuid.UUID]) -> None:
    session.execute(delete(PushSubscription).where(PushSubscription.id.in_(ids)))


# -- the delivery outbox ---------------------------------------------------------------------
def add_deliveries(session: Session, rows: list[NotificationDelivery]) -> None:
    session.add_all(rows)


def _due(now: datetime) -> Any:
    nd = NotificationDelivery
    return or_(
        and_(nd.state == "pending", nd.next_attempt_at <= now),
        and_(nd.state == "sending", nd.lease_until < now),
    )


def claim_deliveries(
    session: Session, owner: str, now: datetime, until: datetime, limit: int
) -> list[NotificationDelivery]:
    """Lease up to ``limit`` due deliveries to ``owner`` (several claimers may run at once:
    the UPDATE re-checks that each row is still due, so a row goes to one of them)."""
    nd = NotificationDelivery
    ids = list(
        session.scalars(select(nd.id).where(_due(now)).order_by(nd.next_attempt_at).limit(limit))
    )
    if not ids:
        return []
    session.execute(
        update(nd)
        .where(nd.id.in_(ids), _due(now))
        .values(state="sending", lease_owner=owner, lease_until=until, attempts=nd.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return list(
        session.scalars(
            select(nd).where(nd.id.in_(ids), nd.lease_owner == owner, nd.state == "sending")
        )
    )


def held_delivery(
    session: Session, delivery_id: uuid.UUID, owner: str
) -> NotificationDelivery | None:
    """The delivery if ``owner`` still holds its claim (another claimer may have taken over)."""
    nd = NotificationDelivery
    return session.scalars(
        select(nd).where(nd.id == delivery_id, nd.lease_owner == owner, nd.state == "sending")
    ).first()


def dead_letters(
    session: Session, workspace_id: uuid.UUID, limit: int
) -> list[NotificationDelivery]:
    """The workspace's deliveries that gave up, newest first."""
    nd = NotificationDelivery
    return list(
        session.scalars(
            select(nd)
            .where(nd.workspace_id == workspace_id, nd.state == "dead")
            .order_by(nd.updated_at.desc())
            .limit(limit)
        )
    )


def purge_deliveries(session: Session, delivered_before: datetime, dead_before: datetime) -> int:
    """Forget delivered rows and dead letters past their keeping time; returns how many."""
    nd = NotificationDelivery
    result = session.execute(
        delete(nd).where(
            or_(
                and_(nd.state == "delivered", nd.updated_at < delivered_before),
                and_(nd.state == "dead", nd.updated_at < dead_before),
            )
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
