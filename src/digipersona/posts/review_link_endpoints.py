"""The JSON API of review links (``/api/v1/review-links``): create, list, revoke."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from digipersona.auth.dependencies import SettingsDep, Writer
from digipersona.db import SessionDep
from digipersona.posts import review_links
from digipersona.posts.schemas import ReviewLinkCreated, ReviewLinkIn, ReviewLinkOut

router = APIRouter(prefix="/api/v1/review-links", tags=["review links"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ReviewLinkCreated)
def create_review_link(
    body: ReviewLinkIn, principal: Writer, session: SessionDep, settings: SettingsDep
) -> ReviewLinkCreated:
    """Make a link for people without an account to decide on posts in review (token shown once)."""
    link, token = review_links.create(
        session,
        principal,
        body.post_ids,
        name=body.name,
        expires_in_days=body.expires_in_days,
    )
    out = ReviewLinkOut.model_validate(link)
    return ReviewLinkCreated(
        **out.model_dump(), token=token, url=f"{settings.public_base_url}/review/{token}"
    )


@router.get("", response_model=list[ReviewLinkOut])
def list_review_links(principal: Writer, session: SessionDep) -> list[ReviewLinkOut]:
    """The workspace's active links, without their tokens."""
    return [ReviewLinkOut.model_validate(x) for x in review_links.list_active(session, principal)]


@router.delete("/{review_link_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_review_link(review_link_id: uuid.UUID, principal: Writer, session: SessionDep) -> None:
    """Withdraw a link: it answers 410 from now on."""
    review_links.revoke(session, principal, review_link_id)
