"""A/B tests: two posts of one persona paired as variants, scheduled into comparable slots,
compared on their latest figures (the statistics are in ``abtest.py``)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from digipersona.analytics import abtest, repository
from digipersona.analytics.history import engagement, zones
from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.config import Settings
from digipersona.exceptions import Conflict, NotFound, ValidationFailed
from digipersona.kit.pagination import DEFAULT_LIMIT, check_page, decode_cursor, encode_cursor
from digipersona.models import AbTest, MetricSnapshot, Post, PublicationState
from digipersona.publishing import service as publishing


def _variant_figures(session: Session, post: Post) -> abtest.Figures:
    pubs = [
        p
        for p in repository.publications_of_post(session, post)
        if p.state == PublicationState.published.value
    ]
    latest: dict[uuid.UUID, MetricSnapshot] = {}
    for snap in repository.snapshots_for(session, [p.id for p in pubs]):
        latest[snap.publication_id] = snap  # ordered by time: the last one wins
    engagements = [engagement(s) for s in latest.values()]
    impressions = [s.impressions for s in latest.values() if s.impressions is not None]
    provided = [e for e in engagements if e is not None]
    # Per-impression rates only when every measured publication reports impressions.
    complete = bool(impressions) and len(impressions) == len(latest)
    return abtest.Figures(
        engagements=sum(provided) if provided else None,
        impressions=sum(impressions) if complete else None,
        publications=len(pubs),
        measured=len(provided),
    )


def ab_result(session: Session, test: AbTest) -> dict[str, Any]:
    """A test with each variant's figures and the comparison."""
    posts = {
        p.id: p
        for p in repository.posts_by_id(
            session, test.workspace_id, [test.post_a_id, test.post_b_id]
        )
    }
    a, b = posts.get(test.post_a_id), posts.get(test.post_b_id)
    fa = _variant_figures(session, a) if a else abtest.Figures(None, None, 0, 0)
    fb = _variant_figures(session, b) if b else abtest.Figures(None, None, 0, 0)
    return {
        "id": test.id,
        "name": test.name,
        "persona_id": test.persona_id,
        "created_at": test.created_at,
        "variants": {
            "a": {"post_id": test.post_a_id, **fa.__dict__},
            "b": {"post_id": test.post_b_id, **fb.__dict__},
        },
        "result": abtest.compare(fa, fb, seed=test.id.int % (2**32)),
    }


def create_ab_test(
    session: Session,
    principal: Principal,
    settings: Settings,
    *,
    post_a_id: uuid.UUID,
    post_b_id: uuid.UUID,
    name: str = "",
    schedule: bool = False,
) -> AbTest:
    """Pair two posts of one persona as variants; with ``schedule``, put them into comparable
    slots: A at its next free slot, B one week later at the same local weekday and time."""
    if post_a_id == post_b_id:
        raise ValidationFailed("Variant A and variant B must be two different posts.")
    a = repository.get_post(session, principal.workspace_id, post_a_id)
    b = repository.get_post(session, principal.workspace_id, post_b_id)
    if a is None or b is None:
        raise NotFound("No such post in this workspace.")
    if a.persona_id != b.persona_id:
        raise ValidationFailed("Both variants must belong to the same persona.")
    if sorted(a.platforms) != sorted(b.platforms):
        raise ValidationFailed(
            "Both variants must target the same platforms "
            f"(A: {', '.join(a.platforms) or 'none'}; B: {', '.join(b.platforms) or 'none'})."
        )
    test = AbTest(
        workspace_id=principal.workspace_id,
        persona_id=a.persona_id,
        name=name.strip()[:200],
        post_a_id=a.id,
        post_b_id=b.id,
        created_by_id=principal.user_id,
    )
    repository.add_ab_test(session, test)
    if schedule:
        schedule_ab_test(session, principal, settings, test)
    return test


def schedule_ab_test(
    session: Session, principal: Principal, settings: Settings, test: AbTest
) -> None:
    """Put both variants into comparable slots: A at its next free slot, B one week later at
    the same local weekday and time (both must be approved; needs the publish permission)."""
    principal.require(Permission.publish)
    posts = {
        p.id: p
        for p in repository.posts_by_id(
            session, test.workspace_id, [test.post_a_id, test.post_b_id]
        )
    }
    waiting = [
        label
        for label, pid in (("A", test.post_a_id), ("B", test.post_b_id))
        if pid in posts and posts[pid].status != "approved"
    ]
    if waiting:
        raise Conflict(
            f"Only approved posts can be scheduled: approve variant {' and '.join(waiting)} "
            "first, then schedule the test."
        )
    first = publishing.schedule(session, principal, settings, test.post_a_id)
    slot = min(p.slot_at or p.scheduled_at for p in first)
    zone = zones(session, principal.workspace_id).get(test.persona_id, ZoneInfo("UTC"))
    local = slot.astimezone(zone).replace(tzinfo=None) + timedelta(days=7)
    publishing.schedule(session, principal, settings, test.post_b_id, at=local.replace(tzinfo=zone))


def ab_tests_of_post(session: Session, principal: Principal, post_id: uuid.UUID) -> list[AbTest]:
    """The A/B tests a post is a variant of, newest first."""
    return repository.list_ab_tests(session, principal.workspace_id, post_id=post_id)


def get_ab_test(session: Session, principal: Principal, test_id: uuid.UUID) -> AbTest:
    test = repository.get_ab_test(session, principal.workspace_id, test_id)
    if test is None:
        raise NotFound("No such A/B test in this workspace.")
    return test


def list_ab_tests(
    session: Session,
    principal: Principal,
    *,
    persona_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> tuple[list[AbTest], str | None]:
    """A page of the workspace's A/B tests, newest first, and the next page's cursor."""
    check_page(limit, 0)
    after = None
    if cursor is not None:
        before, key = decode_cursor(cursor, (datetime, uuid.UUID))
        if before:
            raise ValidationFailed("Invalid request: cursor: this list only pages forward.")
        after = (key[0], key[1])
    tests = repository.list_ab_tests(
        session, principal.workspace_id, persona_id=persona_id, after=after, limit=limit + 1
    )
    more = len(tests) > limit
    tests = tests[:limit]
    last = tests[-1] if more else None
    return tests, encode_cursor([last.created_at, last.id]) if last is not None else None
