"""SQL of the autopilot: rules, triggers, runs, seen feed items, and the queue it keeps full."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from digipersona.kit.repository import Page, Repository
from digipersona.models import (
    ACTIVE_STATES,
    AutopilotRun,
    GenerationRule,
    Membership,
    Post,
    PostStatus,
    Publication,
    Role,
    SeenFeedItem,
    Trigger,
    User,
)


class RuleRepository(Repository[GenerationRule]):
    model = GenerationRule

    def for_persona(self, workspace_id: uuid.UUID, persona_id: uuid.UUID) -> list[GenerationRule]:
        stmt = (
            select(GenerationRule)
            .where(
                GenerationRule.workspace_id == workspace_id,
                GenerationRule.persona_id == persona_id,
            )
            .order_by(GenerationRule.created_at, GenerationRule.id)
        )
        return list(self.session.scalars(stmt))

    def for_workspace(self, workspace_id: uuid.UUID) -> list[GenerationRule]:
        stmt = (
            select(GenerationRule)
            .where(GenerationRule.workspace_id == workspace_id)
            .order_by(GenerationRule.next_run_at, GenerationRule.id)
        )
        return list(self.session.scalars(stmt))

    def due_ids(self, now: datetime, limit: int = 100) -> list[uuid.UUID]:
        stmt = (
            select(GenerationRule.id)
            .where(GenerationRule.enabled.is_(True), GenerationRule.next_run_at <= now)
            .order_by(GenerationRule.next_run_at)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def claim(self, rule_id: uuid.UUID, now: datetime, lease_until: datetime) -> bool:
        """Atomically take a due rule: only one scheduler's UPDATE matches the row."""
        result = self.session.execute(
            update(GenerationRule)
            .where(
                GenerationRule.id == rule_id,
                GenerationRule.enabled.is_(True),
                GenerationRule.next_run_at <= now,
            )
            .values(next_run_at=lease_until)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)


class TriggerRepository(Repository[Trigger]):
    model = Trigger

    def for_persona(
        self, workspace_id: uuid.UUID, persona_id: uuid.UUID, kind: str | None = None
    ) -> list[Trigger]:
        stmt = select(Trigger).where(
            Trigger.workspace_id == workspace_id, Trigger.persona_id == persona_id
        )
        if kind:
            stmt = stmt.where(Trigger.kind == kind)
        return list(self.session.scalars(stmt.order_by(Trigger.created_at, Trigger.id)))

    def for_persona_any_workspace(self, persona_id: uuid.UUID, kind: str) -> list[Trigger]:
        """Triggers of a persona for callers that already hold the persona (other domains)."""
        stmt = select(Trigger).where(Trigger.persona_id == persona_id, Trigger.kind == kind)
        return list(self.session.scalars(stmt.order_by(Trigger.created_at, Trigger.id)))

    def get_for_persona(self, persona_id: uuid.UUID, trigger_id: uuid.UUID) -> Trigger | None:
        stmt = select(Trigger).where(Trigger.id == trigger_id, Trigger.persona_id == persona_id)
        return self.session.scalars(stmt).first()

    def due_feed_ids(self, now: datetime, limit: int = 100) -> list[uuid.UUID]:
        stmt = (
            select(Trigger.id)
            .where(
                Trigger.kind == "feed",
                Trigger.enabled.is_(True),
                Trigger.next_poll_at <= now,
            )
            .order_by(Trigger.next_poll_at)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def claim_feed(self, trigger_id: uuid.UUID, now: datetime, lease_until: datetime) -> bool:
        """Atomically take a due feed (same conditional UPDATE as rules)."""
        result = self.session.execute(
            update(Trigger)
            .where(
                Trigger.id == trigger_id,
                Trigger.enabled.is_(True),
                Trigger.next_poll_at <= now,
            )
            .values(next_poll_at=lease_until)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)


class RunRepository(Repository[AutopilotRun]):
    model = AutopilotRun

    def recent(
        self,
        workspace_id: uuid.UUID,
        *,
        persona_id: uuid.UUID | None = None,
        limit: int = 50,
        offset: int = 0,
        cursor: str | None = None,
        with_total: bool = True,
    ) -> Page[AutopilotRun]:
        """Runs newest first (ix_autopilot_runs_persona_started serves a persona's)."""
        stmt = select(AutopilotRun).where(AutopilotRun.workspace_id == workspace_id)
        if persona_id:
            stmt = stmt.where(AutopilotRun.persona_id == persona_id)
        return self.keyset(
            stmt,
            [AutopilotRun.started_at, AutopilotRun.id],
            descending=True,
            limit=limit,
            cursor=cursor,
            offset=offset,
            with_total=with_total,
        )

    def count_since(self, trigger_id: uuid.UUID, since: datetime) -> int:
        stmt = select(AutopilotRun.id).where(
            AutopilotRun.trigger_id == trigger_id, AutopilotRun.started_at >= since
        )
        return self.count(stmt)


class FeedItemRepository(Repository[SeenFeedItem]):
    model = SeenFeedItem

    def seen_keys(self, trigger_id: uuid.UUID, keys: Sequence[str]) -> set[str]:
        if not keys:
            return set()
        stmt = select(SeenFeedItem.item_key).where(
            SeenFeedItem.trigger_id == trigger_id, SeenFeedItem.item_key.in_(list(keys))
        )
        return set(self.session.scalars(stmt))

    def get_key(self, trigger_id: uuid.UUID, key: str) -> SeenFeedItem | None:
        stmt = select(SeenFeedItem).where(
            SeenFeedItem.trigger_id == trigger_id, SeenFeedItem.item_key == key
        )
        return self.session.scalars(stmt).first()


class QueueRepository:
    """What a persona already has waiting: the posts a keep-full rule counts."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def waiting_posts(self, persona_id: uuid.UUID) -> list[Post]:
        stmt = select(Post).where(
            Post.persona_id == persona_id,
            Post.status.in_(
                [
                    PostStatus.in_review.value,
                    PostStatus.approved.value,
                    PostStatus.scheduled.value,
                ]
            ),
        )
        return list(self.session.scalars(stmt))

    def first_publication_at(self, post_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, datetime]:
        if not post_ids:
            return {}
        rows = self.session.execute(
            select(Publication.post_id, func.min(Publication.scheduled_at))
            .where(Publication.post_id.in_(list(post_ids)), Publication.state.in_(ACTIVE_STATES))
            .group_by(Publication.post_id)
        ).all()
        return {post_id: at for post_id, at in rows if at is not None}

    def last_structure(self, persona_id: uuid.UUID) -> tuple[str | None, str | None]:
        """Structure and topic of the persona's newest generated post (to avoid repeating them)."""
        row = self.session.execute(
            select(Post.structure, Post.topic)
            .where(Post.persona_id == persona_id, Post.structure.is_not(None))
            .order_by(Post.created_at.desc(), Post.id)
            .limit(1)
        ).first()
        if row is None:
            return None, None
        return row[0], row[1]

    def workspace_owner(self, workspace_id: uuid.UUID) -> User | None:
        row = self.session.execute(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.workspace_id == workspace_id, Membership.role == Role.owner.value)
            .order_by(Membership.created_at)
            .limit(1)
        ).first()
        return row[0] if row else None
