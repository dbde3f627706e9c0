"""Analytics JSON API (workspace-scoped; another workspace's post or persona answers 404)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from digipersona.analytics import experiments, forecast, overview, post_figures, schemas, slots
from digipersona.auth.dependencies import Reader, SettingsDep, Writer
from digipersona.db import SessionDep
from digipersona.kit.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery
from digipersona.kit.schemas import Instant, Text

router = APIRouter(prefix="/api/v1", tags=["analytics"])


@router.get("/content/{post_id}/analytics", response_model=schemas.ContentAnalyticsOut)
def content_analytics(
    post_id: uuid.UUID, principal: Reader, session: SessionDep
) -> schemas.ContentAnalyticsOut:
    """Every metrics snapshot of the post's publications, and totals of their latest ones."""
    return schemas.ContentAnalyticsOut.model_validate(
        post_figures.content_analytics(session, principal, post_id)
    )


@router.get("/analytics", response_model=schemas.WorkspaceAnalyticsOut)
def workspace_analytics(
    principal: Reader,
    session: SessionDep,
    persona_id: uuid.UUID | None = None,
    platform: Text | None = Query(default=None, max_length=20),
    start: Annotated[Instant | None, Query(description="ISO 8601 with a zone")] = None,
    end: Annotated[Instant | None, Query(description="ISO 8601 with a zone")] = None,
) -> schemas.WorkspaceAnalyticsOut:
    """Totals, trend over time, best weekday/hour (persona's local time) and top posts."""
    return schemas.WorkspaceAnalyticsOut.model_validate(
        overview.workspace_analytics(
            session, principal, persona_id=persona_id, platform=platform, start=start, end=end
        )
    )


@router.get("/content/{post_id}/prediction", response_model=schemas.PredictionOut)
def content_prediction(
    post_id: uuid.UUID,
    principal: Reader,
    session: SessionDep,
    at: Annotated[
        Instant | None,
        Query(
            description="When it would be published (ISO 8601 with a zone); default: its "
            "scheduled time, else the persona's next slot"
        ),
    ] = None,
) -> schemas.PredictionOut:
    """The engagement band (low/medium/high vs the persona's history) per platform, or why
    there is not enough history to say."""
    return schemas.PredictionOut.model_validate(
        forecast.predict_post(session, principal, post_id, at)
    )


@router.get("/analytics/slot-suggestions", response_model=schemas.SlotSuggestionsOut)
def slot_suggestions(
    persona_id: uuid.UUID, principal: Reader, session: SessionDep
) -> schemas.SlotSuggestionsOut:
    """Posting slots the persona's own history favours over its current ones, with evidence."""
    return schemas.SlotSuggestionsOut.model_validate(
        slots.slot_suggestions(session, principal, persona_id)
    )


@router.post("/ab-tests", status_code=status.HTTP_201_CREATED, response_model=schemas.AbTestOut)
def create_ab_test(
    body: schemas.AbTestCreate, principal: Writer, session: SessionDep, settings: SettingsDep
) -> schemas.AbTestOut:
    """Pair two posts of one persona as variants A and B (optionally scheduling both into
    comparable slots, which needs the publish permission and both posts approved)."""
    test = experiments.create_ab_test(
        session,
        principal,
        settings,
        post_a_id=body.post_a_id,
        post_b_id=body.post_b_id,
        name=body.name,
        schedule=body.schedule,
    )
    return schemas.AbTestOut.model_validate(experiments.ab_result(session, test))


@router.get("/ab-tests", response_model=schemas.AbTestList)
def list_ab_tests(
    principal: Reader,
    session: SessionDep,
    persona_id: uuid.UUID | None = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> schemas.AbTestList:
    """The workspace's A/B tests with their current results, newest first, a page at a time."""
    tests, next_cursor = experiments.list_ab_tests(
        session, principal, persona_id=persona_id, cursor=cursor, limit=limit
    )
    return schemas.AbTestList(
        items=[schemas.AbTestOut.model_validate(experiments.ab_result(session, t)) for t in tests],
        next_cursor=next_cursor,
    )


@router.get("/ab-tests/{ab_test_id}", response_model=schemas.AbTestOut)
def get_ab_test(ab_test_id: uuid.UUID, principal: Reader, session: SessionDep) -> schemas.AbTestOut:
    """One A/B test: each variant's figures, P(B > A), credible intervals and the lift."""
    test = experiments.get_ab_test(session, principal, ab_test_id)
    return schemas.AbTestOut.model_validate(experiments.ab_result(session, test))
