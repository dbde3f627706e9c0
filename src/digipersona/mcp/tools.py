"""The tools an agent can call: each a thin call into the services the REST API uses.

A tool names the permission it needs (the same one as its REST route), the schema its input is
validated with (the REST route's, see ``mcp/schemas.py``) and a handler that runs with the
calling token's principal. Handlers are plain synchronous functions: the server runs them in a
worker thread, each in its own unit of work, or, like the REST routes that wait on an AI
provider, holding no transaction while the model answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from digipersona.analytics import endpoints as analytics_api
from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.autopilot import endpoints as autopilot_api
from digipersona.autopilot import service as autopilot
from digipersona.config import Settings
from digipersona.connections import endpoints as connections_api
from digipersona.db import session_scope, write_scope
from digipersona.interactions import endpoints as interactions_api
from digipersona.interactions import schemas as interaction_schemas
from digipersona.kit.time import isoformat_z, utcnow
from digipersona.mcp import schemas
from digipersona.personas import endpoints as personas_api
from digipersona.personas import schemas as persona_schemas
from digipersona.personas import service as personas
from digipersona.posts import endpoints as posts_api
from digipersona.posts import schemas as post_schemas
from digipersona.posts import service as posts
from digipersona.publishing import endpoints as publishing_api
from digipersona.publishing import service as publishing
from digipersona.scheduling.describe import describe_slots


@dataclass(frozen=True)
class Runtime:
    """What a handler needs besides its principal and input."""

    factory: sessionmaker[Session]
    settings: Settings


Handler = Callable[[Runtime, Principal, Any], Any]


@dataclass(frozen=True)
class Tool:
    name: str
    title: str
    description: str
    input: type[BaseModel]
    permission: Permission
    handler: Handler
    read_only: bool = True


def _dump(model: BaseModel | Sequence[BaseModel]) -> Any:
    if not isinstance(model, BaseModel):
        return [m.model_dump(mode="json") for m in model]
    return model.model_dump(mode="json")


def _read(rt: Runtime, fn: Callable[[Session], Any]) -> Any:
    with session_scope(rt.factory) as session:
        return fn(session)


def _write(rt: Runtime, fn: Callable[[Session], Any]) -> Any:
    with write_scope(rt.factory) as session:
        return fn(session)


def list_personas(rt: Runtime, p: Principal, a: schemas.ListPersonasIn) -> Any:
    def run(session: Session) -> Any:
        page = personas_api.list_personas(
            principal=p, session=session, q=a.q, limit=a.limit, offset=0, cursor=a.cursor
        )
        return {
            "items": [
                {
                    "id": str(x.id),
                    "name": x.name,
                    "bio": x.bio,
                    "topics": x.topics,
                    "language": x.language,
                    "timezone": x.timezone,
                    "approval_policy": x.approval_policy,
                }
                for x in page.items
            ],
            "next_cursor": page.next_cursor,
        }

    return _read(rt, run)


def get_persona(rt: Runtime, p: Principal, a: schemas.PersonaIdIn) -> Any:
    def run(session: Session) -> Any:
        persona = personas.get(session, p, a.persona_id)
        out = _dump(persona_schemas.PersonaOut.model_validate(persona))
        out["slots_described"] = describe_slots(persona.slots, persona.timezone)
        out["autopilot_rules"] = [
            _dump(autopilot_api.rule_out(session, r))
            for r in autopilot.list_rules(session, p, persona.id)
        ]
        return out

    return _read(rt, run)


def list_connections(rt: Runtime, p: Principal, a: schemas.ListConnectionsIn) -> Any:
    return _read(
        rt,
        lambda s: _dump(
            connections_api.list_connections(
                principal=p, session=s, persona_id=a.persona_id, platform=a.platform
            )
        ),
    )


def generate_drafts(rt: Runtime, p: Principal, a: schemas.GenerateDraftsIn) -> Any:
    views = posts.generate(
        rt.factory,
        p,
        rt.settings,
        persona_id=a.persona_id,
        brief=a.brief,
        platforms=list(a.platforms),
        count=a.count,
        seed=a.seed,
        link_url=str(a.link_url) if a.link_url else None,
    )
    return {"items": [_dump(posts_api.post_out(v)) for v in views]}


def create_draft(rt: Runtime, p: Principal, a: schemas.CreateDraftIn) -> Any:
    body = post_schemas.ContentCreate.model_validate(a.model_dump())
    return _write(rt, lambda s: _dump(posts_api.create(body=body, principal=p, session=s)))


def update_draft(rt: Runtime, p: Principal, a: schemas.UpdateDraftIn) -> Any:
    changes = a.model_dump(exclude_unset=True)
    changes.pop("post_id")
    body = post_schemas.ContentUpdate.model_validate(changes)
    return _write(
        rt,
        lambda s: _dump(
            posts_api.update_post(post_id=a.post_id, body=body, principal=p, session=s)
        ),
    )


def list_posts(rt: Runtime, p: Principal, a: schemas.ListPostsIn) -> Any:
    def run(session: Session) -> Any:
        page = posts_api.list_content(
            principal=p,
            session=session,
            status_=a.status,
            persona_id=a.persona_id,
            platform=a.platform,
            q=a.q,
            limit=a.limit,
            offset=0,
            cursor=a.cursor,
        )
        return {
            "items": [
                {
                    "id": str(x.id),
                    "persona_id": str(x.persona_id),
                    "status": x.status,
                    "platforms": x.platforms,
                    "body": x.body,
                    "priority": x.priority,
                    "version": x.version,
                    "updated_at": isoformat_z(x.updated_at),
                    "valid": all(v.valid for v in x.variants),
                }
                for x in page.items
            ],
            "next_cursor": page.next_cursor,
        }

    return _read(rt, run)


def get_post(rt: Runtime, p: Principal, a: schemas.PostIdIn) -> Any:
    def run(session: Session) -> Any:
        out = _dump(posts_api.get_post(post_id=a.post_id, principal=p, session=session))
        out["schedule"] = _dump(
            publishing_api.get_schedule(post_id=a.post_id, principal=p, session=session)
        )
        return out

    return _read(rt, run)


def submit_for_review(rt: Runtime, p: Principal, a: schemas.SubmitIn) -> Any:
    return _write(rt, lambda s: _dump(posts_api.post_out(posts.submit(s, p, a.post_id, a.version))))


def approve_post(rt: Runtime, p: Principal, a: schemas.ApproveIn) -> Any:
    def run(session: Session) -> Any:
        post = posts.approve(session, p, a.post_id, version=a.version, comment=a.comment)
        return _dump(posts_api.post_out(post))

    return _write(rt, run)


def next_free_slots(rt: Runtime, p: Principal, a: schemas.FreeSlotsIn) -> Any:
    def run(session: Session) -> Any:
        found = publishing.free_slots(session, p, rt.settings, a.persona_id, count=a.count)
        return {
            "connections": [
                {
                    "connection_id": str(f.connection.id),
                    "platform": f.connection.platform,
                    "handle": f.connection.handle,
                    "slots": [isoformat_z(t) for t in f.slots],
                }
                for f in found
            ]
        }

    return _read(rt, run)


def schedule_post(rt: Runtime, p: Principal, a: schemas.ScheduleIn) -> Any:
    def run(session: Session) -> Any:
        publishing.schedule(
            session,
            p,
            rt.settings,
            a.post_id,
            at=a.at,
            connection_ids=a.connection_ids,
            priority=a.priority,
        )
        return _dump(publishing_api._schedule_out(session, a.post_id))

    return _write(rt, run)


def get_queue(rt: Runtime, p: Principal, a: schemas.QueueIn) -> Any:
    start = a.start or utcnow()
    end = start + timedelta(days=a.days)

    def run(session: Session) -> Any:
        out = publishing_api.get_calendar(
            principal=p,
            session=session,
            start=start,
            end=end,
            persona_id=a.persona_id,
            tz=a.tz,
            state=None,
            per_day=50,
        )
        return {"start": out.start, "end": out.end, "tz": out.tz, "items": _dump(out.items)}

    return _read(rt, run)


def get_post_analytics(rt: Runtime, p: Principal, a: schemas.PostIdIn) -> Any:
    return _read(
        rt,
        lambda s: _dump(analytics_api.content_analytics(post_id=a.post_id, principal=p, session=s)),
    )


def list_interactions(rt: Runtime, p: Principal, a: schemas.ListInteractionsIn) -> Any:
    def run(session: Session) -> Any:
        page = interactions_api.list_interactions(
            principal=p,
            session=session,
            persona_id=a.persona_id,
            platform=a.platform,
            kind=a.kind,
            status=a.status,
            min_score=a.min_score,
            is_lead=a.is_lead,
            since=a.since,
            until=a.until,
            q=a.q,
            limit=a.limit,
            offset=0,
            cursor=a.cursor,
        )
        items = sorted(page.items, key=lambda i: (not i.is_lead, -i.lead_score))
        return {"items": _dump(list(items)), "next_cursor": page.next_cursor}

    return _read(rt, run)


def draft_reply(rt: Runtime, p: Principal, a: schemas.DraftReplyIn) -> Any:
    body = interaction_schemas.ReplyDraftIn.model_validate(a.model_dump(exclude={"interaction_id"}))
    return _dump(
        interactions_api.create_reply_draft(
            interaction_id=a.interaction_id,
            body=body,
            principal=p,
            factory=rt.factory,
            settings=rt.settings,
        )
    )


def score_lead(rt: Runtime, p: Principal, a: schemas.ScoreLeadIn) -> Any:
    body = interaction_schemas.ScoreIn.model_validate(a.model_dump())
    return _read(rt, lambda s: _dump(interactions_api.score(body=body, principal=p, session=s)))


TOOLS: tuple[Tool, ...] = (
    Tool(
        "list_personas",
        "List personas",
        "List the personas (voices) of this workspace: id, name, bio, topics, language, time "
        "zone. Start here: every other tool takes a persona_id from this list. Returns "
        "{items, next_cursor}; pass next_cursor back for the next page.",
        schemas.ListPersonasIn,
        Permission.read,
        list_personas,
    ),
    Tool(
        "get_persona",
        "Get a persona",
        "Read one persona in full before writing for it: voice, topics, audience, hashtags, "
        "banned phrases, example posts, posting slots (RRULEs and in plain words) and its "
        "autopilot rules with what each does next.",
        schemas.PersonaIdIn,
        Permission.read,
        get_persona,
    ),
    Tool(
        "list_connections",
        "List connected accounts",
        "The persona's connected social accounts (platform, handle, state, expiry); never "
        "credentials. A post only publishes to platforms with an active connection.",
        schemas.ListConnectionsIn,
        Permission.read,
        list_connections,
    ),
    Tool(
        "generate_drafts",
        "Generate drafts",
        "Have the AI write 1-5 draft posts in a persona's voice from a brief, with a variant "
        "fitted to each platform (linkedin, x, bluesky, webhook). Drafts are saved and wait for "
        "review; nothing is published. Returns the posts with each variant's length checks.",
        schemas.GenerateDraftsIn,
        Permission.drafts,
        generate_drafts,
        read_only=False,
    ),
    Tool(
        "create_draft",
        "Create a draft",
        "Save a draft post you wrote yourself for a persona and platforms. The body is fitted "
        "to each platform (threads split, lengths counted as each network counts). Nothing is "
        "published. Returns the post with its variants and any problems to fix.",
        schemas.CreateDraftIn,
        Permission.drafts,
        create_draft,
        read_only=False,
    ),
    Tool(
        "update_draft",
        "Edit a draft",
        "Change a post's body, platforms, brief, tags, link or priority; fields you leave out "
        "stay as they are. Pass the version you read to refuse the edit if someone changed the "
        "post meanwhile. An approved post goes back to review.",
        schemas.UpdateDraftIn,
        Permission.drafts,
        update_draft,
        read_only=False,
    ),
    Tool(
        "list_posts",
        "List posts",
        "Find posts, newest first, filtered by persona, status (draft, in_review, approved, "
        "scheduled, published, ...), platform or text. Returns short rows; use get_post for "
        "one post's variants and schedule.",
        schemas.ListPostsIn,
        Permission.read,
        list_posts,
    ),
    Tool(
        "get_post",
        "Get a post",
        "One post in full: body, each platform's variant with its parts, lengths and problems "
        "(valid=false means it cannot be published as is), media, and its publications.",
        schemas.PostIdIn,
        Permission.read,
        get_post,
    ),
    Tool(
        "submit_for_review",
        "Submit for review",
        "Send a draft to people for approval once its checks pass (lengths, banned phrases, "
        "links). It cannot publish until someone approves it.",
        schemas.SubmitIn,
        Permission.drafts,
        submit_for_review,
        read_only=False,
    ),
    Tool(
        "approve_post",
        "Approve a post",
        "Approve a post that is in review (needs the 'approve' scope). Only use when the person "
        "you act for asked for it explicitly.",
        schemas.ApproveIn,
        Permission.approve,
        approve_post,
        read_only=False,
    ),
    Tool(
        "next_free_slots",
        "Next free slots",
        "The persona's next free posting times per connected account (UTC, from its slot "
        "rules), i.e. where 'add to queue' would put the next posts.",
        schemas.FreeSlotsIn,
        Permission.read,
        next_free_slots,
    ),
    Tool(
        "schedule_post",
        "Schedule a post",
        "Schedule an approved post to publish: at a time ('at', ISO-8601 with offset) or, "
        "without 'at', into each connection's next free slot (needs the 'publish' scope).",
        schemas.ScheduleIn,
        Permission.publish,
        schedule_post,
        read_only=False,
    ),
    Tool(
        "get_queue",
        "Get the queue",
        "What is scheduled or published in a window (default: the next 14 days): each "
        "publication's time, platform, state and persona.",
        schemas.QueueIn,
        Permission.read,
        get_queue,
    ),
    Tool(
        "get_post_analytics",
        "Post analytics",
        "Engagement of a published post: metric history per publication and totals.",
        schemas.PostIdIn,
        Permission.read,
        get_post_analytics,
    ),
    Tool(
        "list_interactions",
        "List interactions",
        "The inbox: mentions, replies, comments and quotes, filtered by persona, platform, "
        "kind, status, lead score or text; likely sales leads first within each page.",
        schemas.ListInteractionsIn,
        Permission.read,
        list_interactions,
    ),
    Tool(
        "draft_reply",
        "Draft a reply",
        "Draft a reply to an interaction: give exactly one of template_id (a persona reply "
        "template), ai: true (written in the persona's voice) or text. The reply is a post "
        "that goes through review like any other.",
        schemas.DraftReplyIn,
        Permission.drafts,
        draft_reply,
        read_only=False,
    ),
    Tool(
        "score_lead",
        "Score a lead",
        "Score how likely a message is a sales lead (0-100, 50+ is a lead) with the reasons. "
        "Reads nothing and saves nothing.",
        schemas.ScoreLeadIn,
        Permission.read,
        score_lead,
    ),
)

BY_NAME = {t.name: t for t in TOOLS}


def visible(principal: Principal) -> list[Tool]:
    """The tools this principal may call (a ``drafts`` token: drafting and reading)."""
    return [t for t in TOOLS if principal.can(t.permission)]


def persona_profile(rt: Runtime, principal: Principal, persona_id: uuid.UUID) -> dict[str, Any]:
    """A persona's profile as a resource: what writing for it needs to know."""

    def run(session: Session) -> dict[str, Any]:
        persona = personas.get(session, principal, persona_id)
        out: dict[str, Any] = _dump(persona_schemas.PersonaOut.model_validate(persona))
        out["slots_described"] = describe_slots(persona.slots, persona.timezone)
        return out

    result: dict[str, Any] = _read(rt, run)
    return result


def persona_refs(rt: Runtime, principal: Principal) -> list[tuple[uuid.UUID, str]]:
    """(id, name) of the workspace's personas, at most 200."""

    def run(session: Session) -> list[tuple[uuid.UUID, str]]:
        page = personas.page_personas(session, principal, limit=200)
        return [(x.id, x.name) for x in page.items]

    result: list[tuple[uuid.UUID, str]] = _read(rt, run)
    return result
