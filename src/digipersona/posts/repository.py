from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, exists, func, or_, select

from digipersona.kit.repository import Page, Repository
from digipersona.models import Interaction, Media, Post, ReviewLink, Variant


class PostRepository(Repository[Post]):
    model = Post

    def search(
        self,
        workspace_id: uuid.UUID,
        *,
        status: str | None,
        persona_id: uuid.UUID | None,
        platform: str | None,
        q: str | None,
        limit: int,
        offset: int = 0,
        cursor: str | None = None,
    ) -> Page[Post]:
        """The workspace's posts, newest first (ix_posts_*_created serve each filter's order)."""
        stmt = select(Post).where(Post.workspace_id == workspace_id)
        if status:
            stmt = stmt.where(Post.status == status)
        if persona_id:
            stmt = stmt.where(Post.persona_id == persona_id)
        if platform:
            stmt = stmt.where(
                exists().where(Variant.post_id == Post.id, Variant.platform == platform)
            )
        if q:
            needle = q.lower()
            stmt = stmt.where(
                or_(func.lower(Post.body).contains(needle), func.lower(Post.brief).contains(needle))
            )
        return self.keyset(
            stmt,
            [Post.created_at, Post.id],
            descending=True,
            limit=limit,
            cursor=cursor,
            offset=offset,
        )

    def by_ids(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Post]:
        """The posts with these ids (any workspace: callers pass ids they already scoped)."""
        return {p.id: p for p in self.session.scalars(select(Post).where(Post.id.in_(list(ids))))}

    def statuses(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        """Each post's status."""
        rows = self.session.execute(select(Post.id, Post.status).where(Post.id.in_(list(ids))))
        return {row.id: row.status for row in rows}

    def is_reply(self, post_id: uuid.UUID) -> bool:
        """Whether the post answers an interaction (a reply draft of the inbox)."""
        return bool(
            self.session.scalar(select(exists().where(Interaction.reply_post_id == post_id)))
        )

    def recent_bodies(
        self, persona_id: uuid.UUID, *, exclude: uuid.UUID | None, limit: int = 200
    ) -> list[str]:
        """The persona's latest post bodies, replies left out (they may repeat, see check)."""
        stmt = select(Post.body).where(
            Post.persona_id == persona_id,
            ~exists().where(Interaction.reply_post_id == Post.id),
        )
        if exclude is not None:
            stmt = stmt.where(Post.id != exclude)
        stmt = stmt.order_by(Post.created_at.desc()).limit(limit)
        return [b for b in self.session.scalars(stmt) if b]


class VariantRepository(Repository[Variant]):
    model = Variant

    def for_posts(self, post_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Variant]]:
        out: dict[uuid.UUID, list[Variant]] = {pid: [] for pid in post_ids}
        if not post_ids:
            return out
        stmt = select(Variant).where(Variant.post_id.in_(post_ids)).order_by(Variant.platform)
        for variant in self.session.scalars(stmt):
            out[variant.post_id].append(variant)
        return out

    def delete_platforms(self, post_id: uuid.UUID, keep: Sequence[str]) -> None:
        self.session.execute(
            delete(Variant).where(Variant.post_id == post_id, Variant.platform.not_in(list(keep)))
        )


class MediaRepository(Repository[Media]):
    model = Media

    def for_posts(self, post_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Media]]:
        out: dict[uuid.UUID, list[Media]] = {pid: [] for pid in post_ids}
        if not post_ids:
            return out
        stmt = select(Media).where(Media.post_id.in_(post_ids)).order_by(Media.position, Media.id)
        for media in self.session.scalars(stmt):
            if media.post_id is not None:
                out[media.post_id].append(media)
        return out

    def library(self, workspace_id: uuid.UUID, *, limit: int) -> list[Media]:
        """One row per image of the workspace (the newest copy of each digest), newest first."""
        newest = (
            select(func.max(Media.created_at).label("at"), Media.digest)
            .where(Media.workspace_id == workspace_id)
            .group_by(Media.digest)
            .subquery()
        )
        stmt = (
            select(Media)
            .join(newest, (Media.digest == newest.c.digest) & (Media.created_at == newest.c.at))
            .where(Media.workspace_id == workspace_id)
            .order_by(Media.created_at.desc(), Media.id.desc())
            .limit(limit)
        )
        seen: set[str | None] = set()
        out = []
        for media in self.session.scalars(stmt):
            if media.digest not in seen:
                seen.add(media.digest)
                out.append(media)
        return out

    def copies(self, workspace_id: uuid.UUID, digests: Sequence[str]) -> list[Media]:
        """Every copy of these images in the workspace (attached or not)."""
        if not digests:
            return []
        stmt = (
            select(Media)
            .where(Media.workspace_id == workspace_id, Media.digest.in_(list(digests)))
            .order_by(Media.created_at)
        )
        return list(self.session.scalars(stmt))


class ReviewLinkRepository(Repository[ReviewLink]):
    model = ReviewLink

    def get_by_hash(self, token_hash: str) -> ReviewLink | None:
        """The link behind a token hash, whatever its workspace (the token is the credential)."""
        return self.session.scalars(
            select(ReviewLink).where(ReviewLink.token_hash == token_hash)
        ).first()

    def active_in(self, workspace_id: uuid.UUID, now: datetime) -> list[ReviewLink]:
        """The workspace's links that are neither revoked nor expired, newest first."""
        stmt = (
            select(ReviewLink)
            .where(
                ReviewLink.workspace_id == workspace_id,
                ReviewLink.revoked_at.is_(None),
                ReviewLink.expires_at > now,
            )
            .order_by(ReviewLink.created_at.desc(), ReviewLink.id)
            .limit(500)
        )
        return list(self.session.scalars(stmt))
