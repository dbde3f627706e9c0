from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, status

from digipersona.auth.dependencies import Drafter, Reader, SettingsDep, UnboundDrafter
from digipersona.db import FactoryDep, SessionDep
from digipersona.interactions import lead_learning, replies, schemas, service
from digipersona.interactions.leads import score_lead
from digipersona.kit.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, OffsetQuery
from digipersona.kit.schemas import Instant, Text
from digipersona.kit.time import utcnow

router = APIRouter(prefix="/api/v1/interactions", tags=["interactions"])


@router.post("/score", response_model=schemas.ScoreOut)
def score(body: schemas.ScoreIn, principal: Reader, session: SessionDep) -> schemas.ScoreOut:
    """Lead score 0-100 with the reasons; 50 or more means a likely sales lead.

    Scored by the rules and the workspace's lead model (see ``digipersona leads retrain``).
    """
    result = score_lead(
        body.text,
        author_name=body.author_name,
        author_bio=body.author_bio,
        model=lead_learning.model_for(session, principal.workspace_id),
    )
    return schemas.ScoreOut(**result.to_dict())


@router.get("", response_model=schemas.InteractionList)
def list_interactions(
    principal: Reader,
    session: SessionDep,
    persona_id: uuid.UUID | None = None,
    platform: Text | None = Query(default=None, max_length=20),
    kind: schemas.Kind | None = None,
    status: schemas.Status | None = None,
    min_score: int | None = Query(default=None, ge=0, le=100),
    is_lead: bool | None = None,
    since: Instant | None = None,
    until: Instant | None = None,
    q: Text | None = Query(default=None, min_length=1, max_length=200),
    limit: LimitQuery = DEFAULT_LIMIT,
    offset: OffsetQuery = 0,
    cursor: CursorQuery = None,
) -> schemas.InteractionList:
    """The inbox: mentions, replies, comments and quotes, newest first, filtered.

    Page with ``cursor`` (each page's ``next_cursor``); ``offset`` still works but costs the
    skipped rows.
    """
    page = service.page_interactions(
        session,
        principal,
        persona_id=persona_id,
        platform=platform,
        kind=kind,
        status=status,
        min_score=min_score,
        is_lead=is_lead,
        since=since,
        until=until,
        q=q,
        limit=limit,
        offset=offset,
        cursor=cursor,
    )
    return schemas.InteractionList(
        items=[schemas.InteractionOut.model_validate(i) for i in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
        next_cursor=page.next_cursor,
        prev_cursor=page.prev_cursor,
    )


@router.get("/sources", response_model=list[schemas.SourceOut])
def sources(principal: Reader, session: SessionDep) -> list[schemas.SourceOut]:
    """What the inbox reads from each connection, and what a platform does not provide."""
    return [schemas.SourceOut(**s) for s in service.sources(session, principal)]


@router.post("/bulk", response_model=schemas.BulkStatusOut)
def bulk_status(
    body: schemas.BulkStatusIn, principal: Drafter, session: SessionDep
) -> schemas.BulkStatusOut:
    """Mark many interactions read or ignored (or new again); all or nothing."""
    updated = service.set_status(session, principal, body.ids, body.status)
    return schemas.BulkStatusOut(updated=updated, status=body.status)


@router.get("/{interaction_id}", response_model=schemas.InteractionOut)
def get_interaction(
    interaction_id: uuid.UUID, principal: Reader, session: SessionDep
) -> schemas.InteractionOut:
    """One interaction."""
    return schemas.InteractionOut.model_validate(service.get(session, principal, interaction_id))


@router.post("/{interaction_id}/lead-label", response_model=schemas.InteractionOut)
def set_lead_label(
    interaction_id: uuid.UUID, body: schemas.LeadLabelIn, principal: Drafter, session: SessionDep
) -> schemas.InteractionOut:
    """Mark an interaction a lead (true) or not a lead (false), or clear the mark (null).

    Labels train the workspace's lead model at the next ``digipersona leads retrain``.
    """
    row = lead_learning.set_label(session, principal, interaction_id, body.label, utcnow())
    return schemas.InteractionOut.model_validate(row)


@router.post(
    "/{interaction_id}/reply-drafts",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.ReplyDraftOut,
)
def create_reply_draft(
    interaction_id: uuid.UUID,
    body: schemas.ReplyDraftIn,
    principal: UnboundDrafter,
    factory: FactoryDep,
    settings: SettingsDep,
) -> schemas.ReplyDraftOut:
    """Draft a reply (persona template, AI in the persona's voice, or your text) as a post.

    The reply goes through the usual approval; it is sent on its own only when the persona
    opted in for the template's class. Holds no request session: an AI reply is asked for
    with the database free.
    """
    result = replies.create_draft(
        factory,
        principal,
        settings,
        interaction_id,
        template_id=body.template_id,
        ai=body.ai,
        text=body.text,
    )
    return schemas.ReplyDraftOut(**result)
