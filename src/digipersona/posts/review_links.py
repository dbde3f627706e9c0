"""Review links: someone without an account approves, asks for changes or rejects some posts.

An editor makes a link for one post or a batch. The link is a random token shown once and stored
as SHA-256 (like API tokens); it reaches only its workspace and only the posts it was made for,
and can do nothing but decide on them. Creating one needs the ``write`` permission (an editor,
admin or owner; an API token needs the ``write`` scope), so a ``drafts`` token, which may never
approve, cannot make a link that approves. A decision through a link is audited as
"via review link (name)" with no user as actor and notifies the post's author.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy.orm import Session

from digipersona.audit import service as audit
from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.config import Settings
from digipersona.exceptions import (
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    TooManyRequests,
    ValidationFailed,
)
from digipersona.kit import security
from digipersona.kit.ratelimit import Limiter
from digipersona.kit.time import utcnow
from digipersona.kit.words import plural
from digipersona.models import Persona, Post, PostStatus, ReviewLink
from digipersona.notifications.service import notify
from digipersona.personas.repository import PersonaRepository
from digipersona.posts.repository import PostRepository, ReviewLinkRepository
from digipersona.posts.service import PostView, views

TOKEN_PREFIX = "dp_rl_"  # noqa: S105 - a prefix, not a secret; kit/logging masks dp_<kind>_...
DEFAULT_DAYS = 7
MAX_DAYS = 90
MAX_POSTS = 50
MAX_COMMENT = 2000

Decision = Literal["approve", "request_changes", "reject"]
DECISIONS: dict[str, Decision] = {
    "approve": "approve",
    "request_changes": "request_changes",
    "reject": "reject",
}


@dataclass
class ReviewItem:
    """One post of a link, ready for the public page."""

    view: PostView
    persona: Persona


def create(
    session: Session,
    principal: Principal,
    post_ids: list[uuid.UUID],
    *,
    name: str = "",
    expires_in_days: int = DEFAULT_DAYS,
) -> tuple[ReviewLink, str]:
    """Make a link for posts in review; returns the row and the token (shown only once)."""
    principal.require(Permission.write)
    wanted = list(dict.fromkeys(post_ids))
    if not wanted:
        raise ValidationFailed("Choose at least one post for the review link.")
    if len(wanted) > MAX_POSTS:
        raise ValidationFailed(f"A review link covers at most {MAX_POSTS} posts.")
    if not 1 <= expires_in_days <= MAX_DAYS:
        raise ValidationFailed(f"A review link expires after 1 to {MAX_DAYS} days.")
    repo = PostRepository(session)
    for post_id in wanted:
        post = repo.get_in_workspace(principal.workspace_id, post_id)
        if post is None:
            raise NotFound("No such post in this workspace.")
        if post.status != PostStatus.in_review.value:
            raise Conflict(
                f"Only posts in review can be sent for review by link; this post is "
                f"{post.status}. Submit it for review first.",
                extra={"post_id": str(post.id), "current_status": post.status},
            )
    token = security.new_token(TOKEN_PREFIX)
    link = ReviewLink(
        workspace_id=principal.workspace_id,
        created_by_id=principal.user_id,
        name=name.strip()[:100],
        token_hash=security.token_hash(token),
        post_ids=[str(p) for p in wanted],
        expires_at=utcnow() + timedelta(days=expires_in_days),
    )
    session.add(link)
    session.flush()
    audit.record_by(
        session,
        principal,
        "review_link.created",
        object_type="review_link",
        object_id=link.id,
        data={"name": link.name, "posts": link.post_ids, "expires_at": link.expires_at.isoformat()},
    )
    return link, token


def list_active(session: Session, principal: Principal) -> list[ReviewLink]:
    """The workspace's links that still work (never their tokens: only hashes are kept)."""
    principal.require(Permission.write)
    return ReviewLinkRepository(session).active_in(principal.workspace_id, utcnow())


def revoke(session: Session, principal: Principal, link_id: uuid.UUID) -> None:
    """End a link now; revoking twice is harmless."""
    principal.require(Permission.write)
    link = ReviewLinkRepository(session).get_in_workspace(principal.workspace_id, link_id)
    if link is None:
        raise NotFound("No such review link in this workspace.")
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        session.flush()
        audit.record_by(
            session,
            principal,
            "review_link.revoked",
            object_type="review_link",
            object_id=link.id,
            data={"name": link.name},
        )


# -- the public side ---------------------------------------------------------------------------
def _ip_key(ip: str) -> str:
    return f"review:ip:{ip}"


def check_throttle(settings: Settings, limiter: Limiter, ip: str) -> None:
    """Refuse an address that presented too many unknown links, like failed logins."""
    window = settings.login_window_seconds
    key = _ip_key(ip)
    if limiter.count(key, window) >= settings.login_max_failures_per_ip:
        wait = limiter.retry_after(key, window)
        raise TooManyRequests(
            f"Too many unknown review links from your address. "
            f"Try again in {plural(wait, 'second')}.",
            wait,
        )


def open_link(
    session: Session, settings: Settings, limiter: Limiter, token: str, *, ip: str
) -> ReviewLink:
    """The link behind a token if it still works: unknown 404, revoked or expired 410."""
    check_throttle(settings, limiter, ip)
    link = None
    if token.startswith(TOKEN_PREFIX) and len(token) <= 100:
        link = ReviewLinkRepository(session).get_by_hash(security.token_hash(token))
    if link is None:
        limiter.hit(_ip_key(ip), settings.login_window_seconds)
        raise NotFound("This review link does not exist. Check that you copied all of it.")
    if link.revoked_at is not None:
        raise Gone("This review link was withdrawn. Ask whoever sent it for a new one.")
    if link.expires_at <= utcnow():
        raise Gone("This review link has expired. Ask whoever sent it for a new one.")
    return link


def form_token(settings: Settings, link: ReviewLink) -> str:
    """The CSRF token of the link's page: tied to the link, useless for any other."""
    key = settings.secret_key_value().encode()
    return hmac.new(key, f"review-link:{link.id}".encode(), hashlib.sha256).hexdigest()


def items(session: Session, link: ReviewLink) -> list[ReviewItem]:
    """The link's posts that still exist, in the order they were chosen."""
    repo = PostRepository(session)
    posts = [
        p
        for p in (repo.get_in_workspace(link.workspace_id, uuid.UUID(i)) for i in link.post_ids)
        if p is not None
    ]
    personas = PersonaRepository(session)
    out = []
    for v in views(session, posts):
        persona = personas.get_in_workspace(link.workspace_id, v.post.persona_id)
        if persona is not None:
            out.append(ReviewItem(v, persona))
    return out


def decide(
    session: Session,
    settings: Settings,
    link: ReviewLink,
    post_id: uuid.UUID,
    decision: Decision,
    *,
    submitted_form_token: str,
    version: int | None,
    comment: str = "",
) -> Post:
    """Record one decision on a post the link covers; a post that moved on answers 409."""
    if not security.constant_time_equals(form_token(settings, link), submitted_form_token):
        raise Forbidden("This form is not from this review link's page. Reload the page.")
    if str(post_id) not in link.post_ids:
        raise NotFound("This review link does not cover that post.")
    post = PostRepository(session).get_in_workspace(link.workspace_id, post_id)
    if post is None:
        raise NotFound("This post no longer exists.")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed(f"Keep the comment under {MAX_COMMENT} characters.")
    if decision != "approve" and not comment:
        raise ValidationFailed("Say what should change, so the author knows what to do.")
    if post.status != PostStatus.in_review.value:
        raise Conflict(
            f"This post is no longer waiting for review (it is {post.status} now): "
            "someone decided or changed it meanwhile.",
            extra={"current_status": post.status},
        )
    if version is not None and version != post.version:
        raise Conflict(
            "This post was edited since the page was loaded. Reload the page and look again.",
            extra={"current_version": post.version},
        )
    old = post.status
    if decision == "approve":
        # The persona's policy: require_approval needs one approval, and this is one.
        post.approved_by_id = None
        post.approved_at = utcnow()
        post.rejection_reason = None
        new = PostStatus.approved
    elif decision == "request_changes":
        post.rejection_reason = comment
        new = PostStatus.draft
    else:
        post.rejection_reason = comment
        new = PostStatus.rejected
    post.status = new.value
    post.version += 1
    session.flush()
    via = f"review link ({link.name})" if link.name else "review link"
    audit.record(
        session,
        workspace_id=link.workspace_id,
        action="post.status_changed",
        object_type="post",
        object_id=post.id,
        data={
            "from": old,
            "to": new.value,
            "comment": comment or None,
            "version": post.version,
            "via": via,
            "review_link_id": str(link.id),
        },
    )
    if post.created_by_id is not None:
        what = {
            "approve": "approved",
            "request_changes": "sent back with changes requested",
            "reject": "rejected",
        }
        notify(
            session,
            workspace_id=post.workspace_id,
            kind="review.decided",
            title=f"A post was {what[decision]} via {via}",
            body=(comment or post.body)[:140],
            data={"post_id": str(post.id), "decision": decision},
            user_id=post.created_by_id,
        )
    return post
