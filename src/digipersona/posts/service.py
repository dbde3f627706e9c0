"""Content: drafting (by hand or by an AI provider), per-platform variants, approval workflow.

State machine (DESIGN.md "Post lifecycle"): draft -> in_review -> approved | rejected. Editing an
approved post sends it back to review; editing a rejected post makes it a draft again. Personas
with ``auto_approve`` skip review. Every transition is an audit event (who, when, from, to, why).
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from digipersona.ai import service as ai
from digipersona.audit import service as audit
from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.config import Settings
from digipersona.connections.repository import ConnectionRepository
from digipersona.db import session_scope, write_scope
from digipersona.exceptions import Conflict, NotFound, ValidationFailed
from digipersona.generation import (
    Draft,
    DraftRequest,
    GenerationProvider,
    LLMConfig,
    config_from_settings,
    get_provider,
)
from digipersona.kit.repository import Page
from digipersona.kit.time import utcnow
from digipersona.models import Media, Persona, Post, PostStatus, Variant
from digipersona.notifications.service import notify
from digipersona.personas import service as personas
from digipersona.posts import guardrails
from digipersona.posts.media import inspect_image
from digipersona.posts.repository import MediaRepository, PostRepository, VariantRepository
from digipersona.posts.variants import RULES, build_variant, fit_post
from digipersona.publishing import summary

EDITABLE = {
    PostStatus.draft,
    PostStatus.in_review,
    PostStatus.approved,
    PostStatus.rejected,
}


@dataclass
class PostView:
    """A post with its variants and media, ready for a schema."""

    post: Post
    variants: list[Variant]
    media: list[Media]
    # The persona's platforms with an active connection (read now: connections change apart).
    connected: frozenset[str] = frozenset()
    # Who posts on each connected platform, for previews: platform -> (display name, handle).
    accounts: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def warnings(self, variant: Variant) -> list[str]:
        """The variant's stored warnings and, if its platform has no connection, that one."""
        extra = [] if variant.platform in self.connected else [unconnected_note(variant.platform)]
        return list(variant.warnings or []) + extra


# -- reading -----------------------------------------------------------------------------------
def get(session: Session, principal: Principal, post_id: uuid.UUID) -> Post:
    post = PostRepository(session).get_in_workspace(principal.workspace_id, post_id)
    if post is None:
        raise NotFound("No such post in this workspace.")
    return post


def views(session: Session, posts: Sequence[Post]) -> list[PostView]:
    """Load variants and media for many posts in two queries."""
    ids = [p.id for p in posts]
    variants = VariantRepository(session).for_posts(ids)
    media = MediaRepository(session).for_posts(ids)
    connected = ConnectionRepository(session).live_platforms_by_persona(
        {p.persona_id for p in posts}
    )
    return [
        PostView(
            p,
            variants[p.id],
            media[p.id],
            frozenset(connected.get(p.persona_id, {})),
            connected.get(p.persona_id, {}),
        )
        for p in posts
    ]


def statuses(session: Session, post_ids: set[uuid.UUID]) -> dict[str, str]:
    """Each post's status, keyed by the post id as text (what pages and events carry)."""
    if not post_ids:
        return {}
    return {str(k): v for k, v in PostRepository(session).statuses(post_ids).items()}


def view(session: Session, post: Post) -> PostView:
    return views(session, [post])[0]


def list_posts(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    persona_id: uuid.UUID | None = None,
    platform: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[PostView], int | None]:
    """One page of posts and the capped total (see ``page_posts``)."""
    page = page_posts(
        session,
        principal,
        status=status,
        persona_id=persona_id,
        platform=platform,
        q=q,
        limit=limit,
        offset=offset,
    )
    return page.items, page.total


def page_posts(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    persona_id: uuid.UUID | None = None,
    platform: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
    cursor: str | None = None,
) -> Page[PostView]:
    """Posts newest first, after ``cursor``; a total counted up to COUNT_CAP, None beyond."""
    page = PostRepository(session).search(
        principal.workspace_id,
        status=status,
        persona_id=persona_id,
        platform=platform,
        q=q,
        limit=limit,
        offset=offset,
        cursor=cursor,
    )
    return Page(views(session, page.items), page.total, page.next_cursor, page.prev_cursor)


# -- variants ----------------------------------------------------------------------------------
def _media_problems(platform: str, media: Sequence[Media]) -> list[str]:
    if not media:
        return []
    rules = RULES[platform]
    problems = []
    if len(media) > rules.max_images:
        problems.append(
            f"{rules.label} takes at most {rules.max_images} images; "
            f"remove {len(media) - rules.max_images}."
        )
    for item in media:
        if item.size_bytes > rules.max_image_bytes:
            problems.append(
                f"{item.filename} is {item.size_bytes / 1_000_000:.1f} MB; {rules.label} "
                f"accepts at most {rules.max_image_bytes / 1_000_000:.1f} MB per image."
            )
    return problems


def _alt_text_notes(media: Sequence[Media]) -> list[str]:
    return [
        f"{item.filename} has no alt text: describe the image for people who cannot see it."
        for item in media
        if not item.alt_text.strip()
    ]


def unconnected_note(platform: str) -> str:
    label = RULES[platform].label if platform in RULES else platform
    return (
        f"The persona has no active {label} connection: this target is skipped when the post "
        "is scheduled."
    )


def refresh_variants(session: Session, post: Post, persona: Persona) -> list[Variant]:
    """Recompute every platform's variant from the body (hand-edited variants are kept)."""
    repo = VariantRepository(session)
    existing = {v.platform: v for v in repo.for_posts([post.id])[post.id]}
    media = MediaRepository(session).for_posts([post.id])[post.id]
    alt_notes = _alt_text_notes(media)
    repo.delete_platforms(post.id, post.platforms)
    out = []
    for platform in post.platforms:
        variant = existing.get(platform)
        if variant is None:
            variant = Variant(workspace_id=post.workspace_id, post_id=post.id, platform=platform)
            session.add(variant)
        if variant.custom:
            built = build_variant(platform, "\n\n".join(variant.parts))
            built_parts = list(variant.parts)
        else:
            built = fit_post(
                platform,
                post.body,
                persona.hashtags,
                numbering=post.thread_numbering,
                linkedin_comment=post.linkedin_comment if platform == "linkedin" else None,
            )
            built_parts = list(built.parts)
        problems = list(built.problems) + _media_problems(platform, media)
        warnings: list[str] = []
        if persona.require_alt_text:
            problems += alt_notes
        else:
            warnings += alt_notes
        variant.parts = built_parts
        variant.lengths = list(built.lengths)
        variant.problems = problems
        variant.warnings = warnings
        variant.valid = built.valid and not problems
        out.append(variant)
    session.flush()
    return out


def set_variant_parts(
    session: Session,
    principal: Principal,
    post_id: uuid.UUID,
    platform: str,
    parts: list[str],
    version: int | None,
) -> PostView:
    """Hand-edit one platform's thread parts; the variant stops following the body."""
    principal.require(Permission.drafts)
    post = get(session, principal, post_id)
    _check_version(post, version)
    _ensure_editable(post)
    variant = next((v for v in view(session, post).variants if v.platform == platform), None)
    if variant is None:
        raise NotFound(f"This post has no {platform} variant; add the platform first.")
    variant.parts = [p.strip() for p in parts if p.strip()]
    if not variant.parts:
        raise ValidationFailed("Give at least one non-empty part.")
    variant.custom = True
    persona = personas.get(session, principal, post.persona_id)
    _after_edit(session, principal, post, persona, {"variant": platform})
    return view(session, post)


# -- creating -------------------------------------------------------------------------------------
def _new_post(
    session: Session,
    principal: Principal,
    persona: Persona,
    *,
    body: str,
    platforms: list[str],
    brief: str = "",
    tags: list[str] | None = None,
    link_url: str | None = None,
    linkedin_comment: str | None = None,
    thread_numbering: bool = False,
    priority: int = 0,
    provenance: dict[str, Any] | None = None,
) -> Post:
    post = Post(
        workspace_id=principal.workspace_id,
        persona_id=persona.id,
        brief=brief,
        body=body,
        platforms=list(platforms),
        tags=list(tags or []),
        link_url=link_url,
        linkedin_comment=linkedin_comment,
        thread_numbering=thread_numbering,
        priority=priority,
        created_by_id=principal.user_id,
        **(provenance or {}),
    )
    PostRepository(session).add(post)
    refresh_variants(session, post, persona)
    audit.record_by(
        session,
        principal,
        "post.created",
        object_type="post",
        object_id=post.id,
        workspace_id=principal.workspace_id,
        data={
            "status": post.status,
            "provider": (provenance or {}).get("provider"),
            "version": post.version,
            "body": post.body,
        },
    )
    return post


def create(
    session: Session,
    principal: Principal,
    *,
    persona_id: uuid.UUID,
    body: str,
    platforms: list[str],
    brief: str = "",
    tags: list[str] | None = None,
    link_url: str | None = None,
    linkedin_comment: str | None = None,
    thread_numbering: bool = False,
    priority: int = 0,
) -> PostView:
    """A draft written by hand."""
    principal.require(Permission.drafts)
    persona = personas.get(session, principal, persona_id)
    post = _new_post(
        session,
        principal,
        persona,
        body=body,
        platforms=platforms,
        brief=brief,
        tags=tags,
        link_url=link_url,
        linkedin_comment=linkedin_comment,
        thread_numbering=thread_numbering,
        priority=priority,
    )
    return view(session, post)


def import_draft(
    session: Session,
    principal: Principal,
    persona: Persona,
    *,
    body: str,
    platforms: list[str],
    brief: str = "",
    tags: list[str] | None = None,
    priority: int = 0,
) -> Post:
    """A draft of a bulk import (the persona already checked to be the workspace's)."""
    principal.require(Permission.drafts)
    return _new_post(
        session,
        principal,
        persona,
        body=body,
        platforms=platforms,
        brief=brief,
        tags=tags,
        priority=priority,
        provenance={"provider": "import"},
    )


@dataclass(frozen=True)
class DraftImport:
    """One checked row of a bulk import: a draft for a persona of the workspace."""

    persona: Persona
    body: str
    platforms: list[str]
    brief: str = ""
    tags: list[str] = field(default_factory=list)
    priority: int = 0
    # A platform's own text (its variant is then hand-written: it stops following the body).
    texts: Mapping[str, str] = field(default_factory=dict)


def _fresh_variant(post: Post, persona: Persona, platform: str, text: str | None) -> Variant:
    """The variant of a new post without media (what ``refresh_variants`` computes for it)."""
    if text is not None:
        built = build_variant(platform, text)
    else:
        built = fit_post(
            platform,
            post.body,
            persona.hashtags,
            numbering=post.thread_numbering,
            linkedin_comment=post.linkedin_comment if platform == "linkedin" else None,
        )
    problems = list(built.problems)
    return Variant(
        workspace_id=post.workspace_id,
        post_id=post.id,
        platform=platform,
        parts=list(built.parts),
        lengths=list(built.lengths),
        problems=problems,
        warnings=[],
        valid=built.valid and not problems,
        custom=text is not None,
    )


def import_drafts(
    session: Session, principal: Principal, drafts: Sequence[DraftImport]
) -> list[Post]:
    """Create many drafts at once: posts, variants and audit events added without a flush per
    row (the caller flushes per batch; one INSERT statement per table and batch)."""
    principal.require(Permission.drafts)
    posts: list[Post] = []
    variants: list[Variant] = []
    for draft in drafts:
        post = Post(
            id=uuid.uuid4(),
            workspace_id=principal.workspace_id,
            persona_id=draft.persona.id,
            brief=draft.brief,
            body=draft.body,
            platforms=list(draft.platforms),
            tags=list(draft.tags),
            priority=draft.priority,
            version=1,
            status=PostStatus.draft.value,
            created_by_id=principal.user_id,
            provider="import",
            created_at=utcnow(),
        )
        posts.append(post)
        variants.extend(
            _fresh_variant(post, draft.persona, platform, draft.texts.get(platform))
            for platform in post.platforms
        )
    session.add_all(posts)
    session.add_all(variants)
    audit.add_many_by(
        session,
        principal,
        "post.created",
        object_type="post",
        items=(
            (
                post.id,
                {"status": post.status, "provider": "import", "version": 1, "body": post.body},
            )
            for post in posts
        ),
    )
    return posts


def ask_provider(
    settings: Settings,
    requests: Sequence[DraftRequest],
    *,
    provider: GenerationProvider | None = None,
    per_request: int | None = None,
    config: LLMConfig | None = None,
) -> list[Draft]:
    """The AI provider's drafts for each request, in order; touches no database.

    Callers gather the requests in a read unit of work that they close first: a remote model
    takes seconds, and a transaction held meanwhile would keep SQLite's single write lock (and
    with it the publishing engine) waiting. ``per_request`` keeps only the first drafts of each
    answer; a ``provider`` given by the caller is used as is and left open. ``config`` is the
    workspace's AI configuration (``ai.service.resolve``); the installation default without it.
    """
    own = provider is None
    if provider is None:
        active = get_provider(config if config is not None else config_from_settings(settings))
    else:
        active = provider
    try:
        drafts: list[Draft] = []
        for request in requests:
            answer = list(active.draft(request))
            drafts.extend(answer if per_request is None else answer[:per_request])
        return drafts
    finally:
        if own:
            active.close()


def save_drafts(
    session: Session,
    principal: Principal,
    *,
    persona_id: uuid.UUID,
    drafts: Sequence[Draft],
    brief: str,
    platforms: list[str],
    link_url: str | None = None,
) -> list[PostView]:
    """Store drafts from ``ask_provider`` as posts with their provenance (re-checks the persona:
    it may have been deleted while the provider answered)."""
    principal.require(Permission.drafts)
    persona = personas.get(session, principal, persona_id)
    posts = [
        _new_post(
            session,
            principal,
            persona,
            body=draft.body,
            platforms=platforms,
            brief=brief,
            link_url=link_url,
            provenance={
                "provider": draft.provider,
                "structure": draft.structure,
                "topic": draft.topic,
                "prompt_version": draft.prompt_version,
            },
        )
        for draft in drafts
    ]
    ai.record_drafts(session, principal.workspace_id, persona.id, drafts)
    return views(session, posts)


def generate(
    factory: sessionmaker[Session],
    principal: Principal,
    settings: Settings,
    *,
    persona_id: uuid.UUID,
    brief: str,
    platforms: list[str],
    count: int,
    seed: int | None = None,
    link_url: str | None = None,
    provider: GenerationProvider | None = None,
) -> list[PostView]:
    """Draft ``count`` posts in the persona's voice with the configured AI provider.

    Three short steps, so no transaction is open while the model answers: read the persona,
    ask the provider, then save in a ``write_scope``. A provider failure creates nothing.
    """
    prepared = _prepare(
        factory,
        principal,
        settings,
        DraftAsk(persona_id, brief, platforms, count, seed, link_url),
        reserve=provider is None,
    )
    request, resolved, held = prepared.request, prepared.resolved, prepared.held
    try:
        drafts = ask_provider(settings, [request], provider=provider, config=resolved.config)
        with write_scope(factory) as session:
            ai.settle(session, held)
            return save_drafts(
                session,
                principal,
                persona_id=persona_id,
                drafts=drafts,
                brief=brief,
                platforms=platforms,
                link_url=link_url,
            )
    except BaseException:
        ai.release(factory, held)
        raise


@dataclass(frozen=True)
class PreparedGeneration:
    """A checked draft request with its AI configuration and budget hold (``prepare_stream``)."""

    request: DraftRequest
    resolved: ai.Resolved
    held: ai.Reservation
    persona_id: uuid.UUID
    platforms: list[str]
    link_url: str | None


def prepare_stream(
    factory: sessionmaker[Session],
    principal: Principal,
    settings: Settings,
    *,
    persona_id: uuid.UUID,
    brief: str,
    platforms: list[str],
    count: int,
    seed: int | None = None,
    link_url: str | None = None,
) -> PreparedGeneration:
    """Everything that can refuse a streamed generation (404, 400, the budget's 409), before the
    event stream starts, so a refusal is an ordinary HTTP error. The budget is held: the caller
    must hand the result to ``run_stream``, which settles or releases it."""
    ask = DraftAsk(persona_id, brief, platforms, count, seed, link_url)
    return _prepare(factory, principal, settings, ask, reserve=True)


@dataclass(frozen=True)
class DraftAsk:
    """What a person asked to draft."""

    persona_id: uuid.UUID
    brief: str
    platforms: list[str]
    count: int
    seed: int | None
    link_url: str | None


def _prepare(
    factory: sessionmaker[Session],
    principal: Principal,
    settings: Settings,
    ask: DraftAsk,
    *,
    reserve: bool,
) -> PreparedGeneration:
    """Read the persona and its AI settings (a short transaction of its own), build the
    request and, when ``reserve``, hold the budget for its calls."""
    principal.require(Permission.drafts)
    with session_scope(factory) as session:
        persona = personas.get(session, principal, ask.persona_id)
        profile = personas.profile_of(persona)
        resolved = ai.resolve(session, principal.workspace_id, settings, persona)
    request = DraftRequest(
        persona=profile,
        brief=ask.brief,
        platforms=tuple(ask.platforms),
        count=ask.count,
        seed=ask.seed,
        link=ask.link_url,
    )
    held = ai.reserve(factory, resolved, calls=ask.count) if reserve else ai.NO_RESERVATION
    return PreparedGeneration(request, resolved, held, ask.persona_id, ask.platforms, ask.link_url)


def run_stream(
    factory: sessionmaker[Session],
    principal: Principal,
    settings: Settings,
    prepared: PreparedGeneration,
    *,
    on_text: Callable[[str], None],
    cancel: threading.Event,
) -> list[PostView]:
    """Ask the provider with its answer streamed to ``on_text``; no transaction is open while the
    model answers. Done, the drafts are saved and the hold settled against the real usage.
    Cancelled (``cancel`` set: the client left), the upstream request is closed, nothing is
    saved, only the calls made so far are recorded, and ``GenerationCancelled`` is raised. A
    provider failure records the calls made and raises it."""
    active = get_provider(prepared.resolved.config)
    active.on_text, active.cancel = on_text, cancel
    try:
        drafts = active.draft(prepared.request)
    except BaseException:
        _settle_partial(factory, principal, prepared, active)
        raise
    finally:
        active.close()
    try:
        with write_scope(factory) as session:
            ai.settle(session, prepared.held)
            return save_drafts(
                session,
                principal,
                persona_id=prepared.persona_id,
                drafts=drafts,
                brief=prepared.request.brief,
                platforms=prepared.platforms,
                link_url=prepared.link_url,
            )
    except BaseException:
        ai.release(factory, prepared.held)
        raise


def _settle_partial(
    factory: sessionmaker[Session],
    principal: Principal,
    prepared: PreparedGeneration,
    active: GenerationProvider,
) -> None:
    """Record the calls a cancelled or failed generation made, and drop its hold."""
    with write_scope(factory) as session:
        ai.settle(session, prepared.held)
        ai.record(
            session,
            principal.workspace_id,
            prepared.persona_id,
            purpose="draft",
            provider=active.name,
            model=active.model,
            usage=list(active.usage),
        )


# -- editing ----------------------------------------------------------------------------------
def _check_version(post: Post, version: int | None) -> None:
    if version is not None and version != post.version:
        raise Conflict(
            f"This post changed since you loaded it (now version {post.version}, you had "
            f"{version}). Reload it and decide again.",
            extra={"current_version": post.version, "current_status": post.status},
        )


def _ensure_editable(post: Post) -> None:
    if PostStatus(post.status) not in EDITABLE:
        raise Conflict(
            f"A {post.status} post cannot be edited; duplicate it instead.",
            extra={"current_status": post.status},
        )


def _transition(
    session: Session,
    principal: Principal,
    post: Post,
    new: PostStatus,
    *,
    comment: str | None = None,
) -> None:
    old = post.status
    post.status = new.value
    post.version += 1
    session.flush()
    audit.record_by(
        session,
        principal,
        "post.status_changed",
        object_type="post",
        object_id=post.id,
        workspace_id=post.workspace_id,
        data={"from": old, "to": new.value, "comment": comment, "version": post.version},
    )


def _after_edit(
    session: Session, principal: Principal, post: Post, persona: Persona, changed: dict[str, Any]
) -> None:
    refresh_variants(session, post, persona)
    status = PostStatus(post.status)
    if status == PostStatus.approved:
        _transition(session, principal, post, PostStatus.in_review, comment="edited after approval")
    elif status == PostStatus.rejected:
        _transition(session, principal, post, PostStatus.draft, comment="edited after rejection")
    else:
        post.version += 1
        session.flush()
    audit.record_by(
        session,
        principal,
        "post.edited",
        object_type="post",
        object_id=post.id,
        workspace_id=post.workspace_id,
        data={
            "fields": sorted(changed),
            "version": post.version,
            "status": post.status,
            # The text of each version, for the post's history (bounded like the body itself).
            **({"body": post.body} if "body" in changed else {}),
        },
    )


def update(
    session: Session, principal: Principal, post_id: uuid.UUID, changes: dict[str, Any]
) -> PostView:
    """Edit a post; see the module docstring for how edits move the status."""
    principal.require(Permission.drafts)
    post = get(session, principal, post_id)
    _check_version(post, changes.pop("version", None))
    _ensure_editable(post)
    if not changes:
        return view(session, post)
    for key, value in changes.items():
        setattr(post, key, value)
    persona = personas.get(session, principal, post.persona_id)
    if "body" in changes:
        # A new body means the hand edits of variants no longer match it.
        for variant in view(session, post).variants:
            variant.custom = False
    _after_edit(session, principal, post, persona, changes)
    return view(session, post)


def delete(session: Session, principal: Principal, post_id: uuid.UUID) -> None:
    """Delete a post; past draft (reviewed, approved...) it takes the right to edit content."""
    principal.require(Permission.drafts)
    post = get(session, principal, post_id)
    if post.status != PostStatus.draft.value:
        # Otherwise a drafts-only agent or an approver could make reviewed work disappear.
        principal.require(Permission.write)
    if post.status in (PostStatus.published.value, PostStatus.scheduled.value):
        raise Conflict(
            f"A {post.status} post cannot be deleted here: unschedule it first, or delete the "
            "published copy on the platform.",
            extra={"current_status": post.status},
        )
    audit.record_by(
        session,
        principal,
        "post.deleted",
        object_type="post",
        object_id=post.id,
        workspace_id=post.workspace_id,
        data={"status": post.status},
    )
    # Its published copies (a post that failed on one network) leave the analytics summary.
    days = summary.keys_of_post(session, post.id)
    PostRepository(session).delete(post)
    summary.refresh_days(session, days)


# -- workflow ---------------------------------------------------------------------------------
def check(session: Session, post: Post, persona: Persona) -> list[dict[str, Any]]:
    """Everything that blocks review: guardrail violations and invalid variants.

    Replies (posts answering an inbox interaction) are not compared with anything for near
    duplicates, and posts are not compared with replies: a reply template is meant to be used
    again ("Thanks Bob, glad it helped!" to Bob, then to Carol), and a short reply says nothing
    about whether a post repeats itself. Banned phrases, blocked domains and length still apply.
    """
    problems: list[dict[str, Any]] = []
    repo = PostRepository(session)
    recent = [] if repo.is_reply(post.id) else repo.recent_bodies(persona.id, exclude=post.id)
    for violation in guardrails.check(
        post.body,
        banned_phrases=persona.banned_phrases,
        recent_bodies=recent,
        blocked_domains=persona.blocked_domains,
        platforms=post.platforms,
    ):
        problems.append({"code": violation.code, "message": violation.message})
    # The link is published apart from the body (a card): the AI layer may have removed a
    # blocked link from the text, but the post would still carry it.
    for violation in guardrails.blocked_link(post.link_url or "", persona.blocked_domains):
        if all(p["message"] != violation.message for p in problems):
            problems.append({"code": violation.code, "message": violation.message})
    for variant in view(session, post).variants:
        for message in variant.problems:
            problems.append({"code": "variant", "platform": variant.platform, "message": message})
    return problems


def submit(
    session: Session, principal: Principal, post_id: uuid.UUID, version: int | None = None
) -> PostView:
    """Send a draft to review (or straight to approved for ``auto_approve`` personas)."""
    principal.require(Permission.drafts)
    post = get(session, principal, post_id)
    _check_version(post, version)
    if post.status not in (PostStatus.draft.value, PostStatus.rejected.value):
        raise Conflict(
            f"Only drafts can be submitted for review; this post is {post.status}.",
            extra={"current_status": post.status},
        )
    persona = personas.get(session, principal, post.persona_id)
    refresh_variants(session, post, persona)
    problems = check(session, post, persona)
    if problems:
        raise ValidationFailed(
            "Fix these before review: "
            + " ".join(list(dict.fromkeys(p["message"] for p in problems))[:5]),
            errors=problems,
        )
    post.submitted_at = utcnow()
    _transition(session, principal, post, PostStatus.in_review)
    if persona.approval_policy == "auto_approve":
        post.approved_at = utcnow()
        _transition(session, principal, post, PostStatus.approved, comment="persona auto-approves")
    else:
        notify(
            session,
            workspace_id=post.workspace_id,
            kind="approval.requested",
            title=f"{persona.name}: a post waits for your approval",
            body=post.body[:140],
            data={"post_id": str(post.id)},
        )
    return view(session, post)


def approve(
    session: Session,
    principal: Principal,
    post_id: uuid.UUID,
    *,
    version: int | None = None,
    comment: str | None = None,
) -> PostView:
    """Approve a post in review (owner, admin or approver; never a drafts token)."""
    principal.require(Permission.approve)
    post = get(session, principal, post_id)
    _check_version(post, version)
    if post.status != PostStatus.in_review.value:
        raise Conflict(
            f"Only posts in review can be approved; this post is {post.status}.",
            extra={"current_status": post.status},
        )
    post.approved_by_id = principal.user_id
    post.approved_at = utcnow()
    post.rejection_reason = None
    _transition(session, principal, post, PostStatus.approved, comment=comment)
    return view(session, post)


def reject(
    session: Session,
    principal: Principal,
    post_id: uuid.UUID,
    *,
    reason: str,
    version: int | None = None,
) -> PostView:
    """Reject a post in review with a reason the author will see."""
    principal.require(Permission.approve)
    post = get(session, principal, post_id)
    _check_version(post, version)
    if post.status != PostStatus.in_review.value:
        raise Conflict(
            f"Only posts in review can be rejected; this post is {post.status}.",
            extra={"current_status": post.status},
        )
    post.rejection_reason = reason
    _transition(session, principal, post, PostStatus.rejected, comment=reason)
    return view(session, post)


def suggest(
    factory: sessionmaker[Session],
    principal: Principal,
    settings: Settings,
    post_id: uuid.UUID,
    *,
    kind: str,
    tone: str | None = None,
    language: str | None = None,
) -> tuple[str, list[Any]]:
    """An AI rewrite of the body, returned as a proposal: nothing is changed.

    The post is read in a unit of work closed before the provider is asked (see ``generate``).
    """
    principal.require(Permission.drafts)
    with session_scope(factory) as session:
        post = get(session, principal, post_id)
        persona = personas.get(session, principal, post.persona_id)
        profile, body, hashtags = personas.profile_of(persona), post.body, list(persona.hashtags)
        platforms, numbering = list(post.platforms), post.thread_numbering
        resolved = ai.resolve(session, principal.workspace_id, settings, persona)
        persona_id = persona.id
    provider = get_provider(resolved.config)
    try:
        held = ai.reserve(factory, resolved, calls=1)
    except BaseException:
        provider.close()
        raise
    try:
        text = provider.suggest(profile, body, kind, target_language=language, tone=tone)
    except BaseException:
        ai.release(factory, held)
        raise
    finally:
        provider.close()
    if provider.usage or held.id is not None:
        with write_scope(factory) as session:
            ai.settle(session, held)
            if provider.usage:
                ai.record(
                    session,
                    principal.workspace_id,
                    persona_id,
                    purpose="suggest",
                    provider=provider.name,
                    model=provider.model,
                    usage=provider.usage,
                )
    previews = [fit_post(p, text, hashtags, numbering=numbering) for p in platforms]
    return text, previews


# -- media ------------------------------------------------------------------------------------
def _editable_post(session: Session, principal: Principal, post_id: uuid.UUID) -> Post:
    principal.require(Permission.drafts)
    post = get(session, principal, post_id)
    _ensure_editable(post)
    return post


def add_media(
    session: Session,
    principal: Principal,
    post_id: uuid.UUID,
    *,
    data: bytes,
    filename: str,
    alt_text: str,
) -> PostView:
    post = _editable_post(session, principal, post_id)
    info = inspect_image(data, filename)
    existing = MediaRepository(session).for_posts([post.id])[post.id]
    MediaRepository(session).add(
        Media(
            workspace_id=post.workspace_id,
            post_id=post.id,
            position=len(existing),
            filename=filename[:255],
            mime_type=info.mime_type,
            size_bytes=info.size_bytes,
            width=info.width,
            height=info.height,
            alt_text=alt_text,
            digest=hashlib.sha256(data).hexdigest(),
            data=data,
        )
    )
    persona = personas.get(session, principal, post.persona_id)
    _after_edit(session, principal, post, persona, {"media": filename})
    return view(session, post)


def _post_media(session: Session, principal: Principal, post: Post, media_id: uuid.UUID) -> Media:
    media = MediaRepository(session).get_in_workspace(principal.workspace_id, media_id)
    if media is None or media.post_id != post.id:
        raise NotFound("No such image on this post.")
    return media


def remove_media(
    session: Session, principal: Principal, post_id: uuid.UUID, media_id: uuid.UUID
) -> PostView:
    """Take an image off a post; its last copy stays in the media library, unused."""
    post = _editable_post(session, principal, post_id)
    media = _post_media(session, principal, post, media_id)
    repo = MediaRepository(session)
    others = [m for m in repo.copies(post.workspace_id, [media.digest or ""]) if m.id != media.id]
    if others:
        repo.delete(media)
    else:
        media.post_id = None
        media.position = 0
    _renumber(repo.for_posts([post.id])[post.id])
    persona = personas.get(session, principal, post.persona_id)
    _after_edit(session, principal, post, persona, {"media": "removed"})
    return view(session, post)


def _renumber(media: Sequence[Media]) -> None:
    for position, item in enumerate(media):
        item.position = position


def update_media(
    session: Session,
    principal: Principal,
    post_id: uuid.UUID,
    media_id: uuid.UUID,
    *,
    alt_text: str | None = None,
    position: int | None = None,
) -> PostView:
    """Change an image's alt text or move it to another place in the post's order."""
    post = _editable_post(session, principal, post_id)
    media = _post_media(session, principal, post, media_id)
    if alt_text is not None:
        media.alt_text = alt_text.strip()[:2000]
    if position is not None:
        ordered = [
            m for m in MediaRepository(session).for_posts([post.id])[post.id] if m is not media
        ]
        ordered.insert(max(0, min(position, len(ordered))), media)
        _renumber(ordered)
    session.flush()
    persona = personas.get(session, principal, post.persona_id)
    _after_edit(session, principal, post, persona, {"media": media.filename})
    return view(session, post)


def reuse_media(
    session: Session, principal: Principal, post_id: uuid.UUID, media_id: uuid.UUID
) -> PostView:
    """Put a library image on a post (an unused one moves there, a used one is copied)."""
    post = _editable_post(session, principal, post_id)
    repo = MediaRepository(session)
    source = repo.get_in_workspace(principal.workspace_id, media_id)
    if source is None:
        raise NotFound("No such image in this workspace's media library.")
    existing = repo.for_posts([post.id])[post.id]
    if any(m.digest == source.digest for m in existing):
        raise Conflict("This image is already on this post.")
    if source.post_id is None:
        source.post_id, source.position = post.id, len(existing)
    else:
        repo.add(
            Media(
                workspace_id=post.workspace_id,
                post_id=post.id,
                position=len(existing),
                filename=source.filename,
                mime_type=source.mime_type,
                size_bytes=source.size_bytes,
                width=source.width,
                height=source.height,
                alt_text=source.alt_text,
                digest=source.digest,
                data=source.data,
            )
        )
    session.flush()
    persona = personas.get(session, principal, post.persona_id)
    _after_edit(session, principal, post, persona, {"media": source.filename})
    return view(session, post)


def history(session: Session, principal: Principal, post_id: uuid.UUID) -> list[Any]:
    post = get(session, principal, post_id)
    return audit.list_for_object(session, principal.workspace_id, post.id)
