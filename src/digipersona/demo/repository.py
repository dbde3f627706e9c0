"""What the demo seeder asks the database: is a workspace empty, or already the demo."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digipersona.models import Connection, Membership, Persona, Post, Role, User, Workspace
from digipersona.platforms.base import DEMO_MARK


@dataclass(frozen=True)
class Contents:
    personas: int
    posts: int
    connections: int
    demo_connections: int

    @property
    def empty(self) -> bool:
        return not (self.personas or self.posts or self.connections)

    @property
    def is_demo(self) -> bool:
        """Seeded by ``digipersona demo``: it has connections and every one is a demo one."""
        return self.connections > 0 and self.demo_connections == self.connections


def contents(session: Session, workspace_id: uuid.UUID) -> Contents:
    def count(model: type[Persona] | type[Post] | type[Connection]) -> int:
        stmt = select(func.count()).select_from(model).where(model.workspace_id == workspace_id)
        return int(session.scalar(stmt) or 0)

    demo = 0
    for (extra,) in session.execute(
        select(Connection.extra).where(Connection.workspace_id == workspace_id)
    ):
        demo += 1 if isinstance(extra, dict) and extra.get(DEMO_MARK) is True else 0
    return Contents(
        personas=count(Persona),
        posts=count(Post),
        connections=count(Connection),
        demo_connections=demo,
    )


def workspaces_named(session: Session, name: str) -> list[Workspace]:
    return list(
        session.scalars(
            select(Workspace)
            .where(func.lower(Workspace.name) == name.lower())
            .order_by(Workspace.created_at)
        )
    )


def first_owner(session: Session, workspace_id: uuid.UUID) -> User | None:
    return session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace_id, Membership.role == Role.owner.value)
        .order_by(Membership.created_at)
    ).first()
