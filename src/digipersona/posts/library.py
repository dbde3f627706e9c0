"""The workspace's media library: every image once, where it is used, and deleting unused ones.

Reusing an image on another post copies its row (same digest); taking it off its last post
leaves that copy unattached, so the library keeps it until someone deletes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from digipersona.audit import service as audit
from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.exceptions import Conflict, NotFound
from digipersona.kit.words import plural
from digipersona.models import Media, Post
from digipersona.posts.repository import MediaRepository, PostRepository

# Images the library page and the editor's picker show (newest first).
LIBRARY_LIMIT = 100


@dataclass
class LibraryImage:
    """One image of the library and the posts it is on (empty: unused)."""

    media: Media
    posts: list[Post]

    @property
    def unused(self) -> bool:
        return not self.posts


def _posts(session: Session, copies: Sequence[Media]) -> dict[uuid.UUID, Post]:
    ids = {m.post_id for m in copies if m.post_id is not None}
    if not ids:
        return {}
    return PostRepository(session).by_ids(ids)


def library(
    session: Session, principal: Principal, *, limit: int = LIBRARY_LIMIT
) -> list[LibraryImage]:
    """The workspace's images, newest first, each with the posts using it."""
    repo = MediaRepository(session)
    images = repo.library(principal.workspace_id, limit=limit)
    copies = repo.copies(principal.workspace_id, [m.digest for m in images if m.digest])
    posts = _posts(session, copies)
    out = []
    for image in images:
        using = [
            posts[c.post_id]
            for c in copies
            if c.digest == image.digest and c.post_id is not None and c.post_id in posts
        ]
        out.append(LibraryImage(image, using))
    return out


def get_image(session: Session, principal: Principal, media_id: uuid.UUID) -> Media:
    media = MediaRepository(session).get_in_workspace(principal.workspace_id, media_id)
    if media is None:
        raise NotFound("No such image in this workspace's media library.")
    return media


def delete_unused(session: Session, principal: Principal, media_id: uuid.UUID) -> None:
    """Delete an image that no post uses (every unattached copy of it)."""
    principal.require(Permission.drafts)
    media = get_image(session, principal, media_id)
    repo = MediaRepository(session)
    copies = repo.copies(principal.workspace_id, [media.digest or ""]) or [media]
    used = [c for c in copies if c.post_id is not None]
    if used:
        raise Conflict(
            f"{media.filename} is used by {plural(len(used), 'post')}: take it off them first.",
            extra={"post_ids": [str(c.post_id) for c in used]},
        )
    for copy in copies:
        repo.delete(copy)
    audit.record_by(
        session,
        principal,
        "media.deleted",
        object_type="media",
        object_id=media.id,
        data={"filename": media.filename},
    )
