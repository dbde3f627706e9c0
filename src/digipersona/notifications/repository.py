"""Every query of the notifications domain."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from digipersona.kit.repository import Page, Repository
from digipersona.models import (
    Membership,
    Notification,
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
