from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from digipersona.auth.dependencies import (
    Approver,
    Drafter,
    Reader,
    SettingsDep,
    UnboundDrafter,
)
from digipersona.db import FactoryDep, SessionDep
from digipersona.exceptions import DigipersonaError, ValidationFailed
from digipersona.generation import GenerationCancelled
from digipersona.kit.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, OffsetQuery
from digipersona.kit.schemas import Text
from digipersona.posts import bulk, library, schemas, service
from digipersona.posts.media import MAX_UPLOAD_BYTES

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/content", tags=["content"])


def variant_out(variant: Any, warnings: list[str] | None = None) -> schemas.VariantOut:
    return schemas.VariantOut(
        platform=variant.platform,
        parts=list(variant.parts),
        lengths=list(variant.lengths),
        valid=bool(variant.valid),
        problems=list(variant.problems),
        warnings=warnings
        if warnings is not None
        else list(getattr(variant, "warnings", None) or []),
        custom=bool(getattr(variant, "custom", False)),
    )


def post_out(v: service.PostView) -> schemas.PostOut:
    p = v.post
    return schemas.PostOut(
        id=p.id,
        persona_id=p.persona_id,
        status=p.status,
        brief=p.brief,
        body=p.body,
        platforms=list(p.platforms),
        tags=list(p.tags),
        link_url=p.link_url,
        linkedin_comment=p.linkedin_comment,
        thread_numbering=p.thread_numbering,
        priority=p.priority,
        rejection_reason=p.rejection_reason,
        version=p.version,
        provider=p.provider,
        structure=p.structure,
        topic=p.topic,
        variants=[variant_out(x, v.warnings(x)) for x in v.variants],
        media=[schemas.MediaOut.model_validate(m) for m in v.media],
        created_at=p.created_at,
        updated_at=p.updated_at,
        submitted_at=p.submitted_at,
        approved_at=p.approved_at,
    )


@router.post("/generate", status_code=status.HTTP_201_CREATED, response_model=schemas.GenerateOut)
def generate(
    body: schemas.GenerateIn, principal: UnboundDrafter, factory: FactoryDep, settings: SettingsDep
) -> schemas.GenerateOut:
    """Draft posts in the persona's voice with the configured AI provider.

    Holds no request session: ``service.generate`` keeps the database free while the model
    answers.
    """
    views = service.generate(
        factory,
        principal,
        settings,
        **_draft_ask(body),
    )
    return schemas.GenerateOut(items=[post_out(v) for v in views])


def _draft_ask(body: schemas.GenerateIn) -> dict[str, Any]:
    """The drafting request's fields as the service's keyword arguments."""
    return {
        "persona_id": body.persona_id,
        "brief": body.brief,
        "platforms": list(body.platforms),
        "count": body.count,
        "seed": body.seed,
        "link_url": str(body.link_url) if body.link_url else None,
    }


def _sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n".encode()


@router.post("/generate/stream", response_class=StreamingResponse)
async def generate_stream(
    body: schemas.GenerateIn, principal: UnboundDrafter, factory: FactoryDep, settings: SettingsDep
) -> StreamingResponse:
    """Draft posts like ``/generate``, streamed as server-sent events: ``progress`` events
    (``{"text": piece, "chars": total so far}``) as the model writes, then ``drafts`` (the saved
    posts, like ``/generate``'s answer) or ``error`` (a problem object). Closing the connection
    (the editor's Cancel) stops the model: the upstream request is closed, nothing is saved and
    only the tokens used are recorded. Refusals (unknown persona, bad request, AI budget) are
    ordinary HTTP errors before the stream starts."""
    prepared = await run_in_threadpool(
        service.prepare_stream,
        factory,
        principal,
        settings,
        **_draft_ask(body),
    )
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()
    cancel = threading.Event()
    written = [0]

    def put(item: bytes | None) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the event loop is gone: the client left, ``cancel`` is set
            cancel.set()

    def on_text(piece: str) -> None:
        written[0] += len(piece)
        put(_sse("progress", {"text": piece, "chars": written[0]}))

    def work() -> None:
        try:
            views = service.run_stream(
                factory, principal, settings, prepared, on_text=on_text, cancel=cancel
            )
            items = [post_out(v).model_dump(mode="json") for v in views]
            put(_sse("drafts", {"items": items}))
        except GenerationCancelled:
            pass
        except DigipersonaError as exc:
            put(_sse("error", exc.to_problem()))
        except Exception:
            logger.exception("streamed generation failed")
            put(_sse("error", {"title": "Internal error", "status": 500, "detail": "failed"}))
        finally:
            put(None)

    threading.Thread(target=work, name="draft-stream", daemon=True).start()

    async def events() -> AsyncIterator[bytes]:
        try:
            yield b": started\n\n"
            while (item := await queue.get()) is not None:
                yield item
        finally:
            cancel.set()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.PostOut)
def create(body: schemas.ContentCreate, principal: Drafter, session: SessionDep) -> schemas.PostOut:
    """Create a draft by hand."""
    data = body.model_dump()
    data["link_url"] = str(body.link_url) if body.link_url else None
    return post_out(service.create(session, principal, **data))


@router.get("", response_model=schemas.ContentList)
def list_content(
    principal: Reader,
    session: SessionDep,
    status_: schemas.PostStatusFilter | None = Query(default=None, alias="status"),
    persona_id: uuid.UUID | None = None,
    platform: schemas.Platform | None = None,
    q: Text | None = Query(default=None, max_length=200),
    limit: LimitQuery = DEFAULT_LIMIT,
    offset: OffsetQuery = 0,
    cursor: CursorQuery = None,
) -> schemas.ContentList:
    """Posts of the workspace, newest first, filtered by status, persona, platform or text.

    Page with ``cursor`` (each page's ``next_cursor``); ``offset`` still works but costs the
    skipped rows.
    """
    page = service.page_posts(
        session,
        principal,
        status=status_,
        persona_id=persona_id,
        platform=platform,
        q=q,
        limit=limit,
        offset=offset,
        cursor=cursor,
    )
    return schemas.ContentList(
        items=[post_out(v) for v in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
        next_cursor=page.next_cursor,
        prev_cursor=page.prev_cursor,
    )


@router.post("/import", response_model=schemas.ImportOut)
def import_content(
    body: schemas.ImportIn,
    principal: Drafter,
    session: SessionDep,
    dry_run: bool = Query(default=False, description="Check every row, write nothing"),
) -> schemas.ImportOut:
    """Import drafts from JSON rows or CSV text; all or nothing, with a per-row report.

    A row: persona (name or id), platforms, text and/or per-platform texts (``variants``
    object, or CSV columns ``text_x``, ``text_linkedin``...), and optionally brief, tags,
    priority. At most 10,000 rows (the body may be up to 24 MB). With
    ``dry_run`` the answer lists every problem (row, field, message) and nothing is written;
    a real import with any bad row answers 422 with the same list and writes nothing.
    """
    rows = body.rows if body.rows is not None else bulk.parse_csv(body.csv or "")
    report = bulk.import_rows(session, principal, rows, dry_run=dry_run)
    return schemas.ImportOut(
        dry_run=dry_run,
        rows=report.rows,
        valid=report.rows - len({p.row for p in report.problems}),
        created=report.created,
        problems=[schemas.RowProblemOut(**p.as_dict()) for p in report.problems],
        post_ids=report.post_ids,
    )


@router.get("/export", response_class=StreamingResponse)
def export_content(
    principal: Reader,
    session: SessionDep,
    format: Literal["csv", "json"] = "json",
    status_: schemas.PostStatusFilter | None = Query(default=None, alias="status"),
    persona_id: uuid.UUID | None = None,
    platform: schemas.Platform | None = None,
    q: Text | None = Query(default=None, max_length=200),
) -> StreamingResponse:
    """Every post the list's filters match, as CSV or JSON rows that import again."""
    posts = bulk.matching_posts(
        session, principal, status=status_, persona_id=persona_id, platform=platform, q=q
    )
    # Read within the request's unit of work; only the serialising streams.
    rows = list(bulk.export_rows(session, posts))
    if format == "csv":
        return StreamingResponse(
            bulk.to_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="posts.csv"'},
        )
    return StreamingResponse(
        bulk.to_json(rows),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="posts.json"'},
    )


@router.get("/{post_id}", response_model=schemas.PostOut)
def get_post(post_id: uuid.UUID, principal: Reader, session: SessionDep) -> schemas.PostOut:
    """One post with its variants."""
    return post_out(service.view(session, service.get(session, principal, post_id)))


@router.patch("/{post_id}", response_model=schemas.PostOut)
def update_post(
    post_id: uuid.UUID, body: schemas.ContentUpdate, principal: Drafter, session: SessionDep
) -> schemas.PostOut:
    """Edit a post; an approved post goes back to review."""
    changes = body.model_dump(exclude_unset=True)
    if "link_url" in changes and changes["link_url"] is not None:
        changes["link_url"] = str(changes["link_url"])
    return post_out(service.update(session, principal, post_id, changes))


@router.delete("/{post_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_post(post_id: uuid.UUID, principal: Drafter, session: SessionDep) -> None:
    """Delete a post that is not scheduled or published."""
    service.delete(session, principal, post_id)


@router.get("/{post_id}/variants", response_model=list[schemas.VariantOut])
def get_variants(
    post_id: uuid.UUID, principal: Reader, session: SessionDep
) -> list[schemas.VariantOut]:
    """Per-platform text, lengths in each platform's own counting, and validity."""
    post = service.get(session, principal, post_id)
    view = service.view(session, post)
    return [variant_out(v, view.warnings(v)) for v in view.variants]


@router.put("/{post_id}/variants/{platform}", response_model=schemas.PostOut)
def set_variant(
    post_id: uuid.UUID,
    platform: schemas.Platform,
    body: schemas.VariantPartsIn,
    principal: Drafter,
    session: SessionDep,
) -> schemas.PostOut:
    """Hand-edit one platform's parts (thread split) instead of the automatic fit."""
    return post_out(
        service.set_variant_parts(session, principal, post_id, platform, body.parts, body.version)
    )


@router.post("/{post_id}/submit", response_model=schemas.PostOut)
def submit(
    post_id: uuid.UUID,
    principal: Drafter,
    session: SessionDep,
    body: schemas.DecisionIn | None = None,
) -> schemas.PostOut:
    """Send a draft to review after the guardrails pass."""
    return post_out(service.submit(session, principal, post_id, body.version if body else None))


@router.post("/{post_id}/approve", response_model=schemas.PostOut)
def approve(
    post_id: uuid.UUID,
    principal: Approver,
    session: SessionDep,
    body: schemas.DecisionIn | None = None,
) -> schemas.PostOut:
    """Approve a post in review."""
    return post_out(
        service.approve(
            session,
            principal,
            post_id,
            version=body.version if body else None,
            comment=body.comment if body else None,
        )
    )


@router.post("/{post_id}/reject", response_model=schemas.PostOut)
def reject(
    post_id: uuid.UUID, body: schemas.RejectIn, principal: Approver, session: SessionDep
) -> schemas.PostOut:
    """Reject a post in review, with the reason."""
    return post_out(
        service.reject(session, principal, post_id, reason=body.reason, version=body.version)
    )


@router.post("/{post_id}/suggestions", response_model=schemas.SuggestionOut)
def suggest(
    post_id: uuid.UUID,
    body: schemas.SuggestIn,
    principal: UnboundDrafter,
    factory: FactoryDep,
    settings: SettingsDep,
) -> schemas.SuggestionOut:
    """An AI rewrite (shorten, punchier, hook, tone, translate), proposed and never applied.

    Holds no request session while the model answers.
    """
    text, previews = service.suggest(
        factory,
        principal,
        settings,
        post_id,
        kind=body.kind,
        tone=body.tone,
        language=body.language,
    )
    return schemas.SuggestionOut(
        kind=body.kind, text=text, variants=[variant_out(v) for v in previews]
    )


@router.post(
    "/{post_id}/media", status_code=status.HTTP_201_CREATED, response_model=schemas.PostOut
)
def upload_media(
    post_id: uuid.UUID,
    principal: Drafter,
    session: SessionDep,
    file: UploadFile = File(...),
    alt_text: Annotated[Text, Form(max_length=2000)] = "",
) -> schemas.PostOut:
    """Attach an image (JPEG, PNG, GIF, WebP) with alt text."""
    # The upload is already spooled (memory or a temporary file): a plain read, in this thread.
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationFailed(f"Images can be at most {MAX_UPLOAD_BYTES // 1_048_576} MB.")
    return post_out(
        service.add_media(
            session,
            principal,
            post_id,
            data=data,
            filename=(file.filename or "").replace("\x00", "") or "image",
            alt_text=alt_text.strip(),
        )
    )


@router.delete("/{post_id}/media/{media_id}", response_model=schemas.PostOut)
def delete_media(
    post_id: uuid.UUID, media_id: uuid.UUID, principal: Drafter, session: SessionDep
) -> schemas.PostOut:
    """Remove an image from a post."""
    return post_out(service.remove_media(session, principal, post_id, media_id))


@router.patch("/{post_id}/media/{media_id}", response_model=schemas.PostOut)
def update_media(
    post_id: uuid.UUID,
    media_id: uuid.UUID,
    body: schemas.MediaUpdate,
    principal: Drafter,
    session: SessionDep,
) -> schemas.PostOut:
    """Change an image's alt text or its place among the post's images."""
    return post_out(
        service.update_media(
            session, principal, post_id, media_id, alt_text=body.alt_text, position=body.position
        )
    )


@router.post("/{post_id}/media/reuse", response_model=schemas.PostOut)
def reuse_media(
    post_id: uuid.UUID, body: schemas.MediaReuse, principal: Drafter, session: SessionDep
) -> schemas.PostOut:
    """Put an image of the workspace's media library on this post."""
    return post_out(service.reuse_media(session, principal, post_id, body.media_id))


@router.get("/{post_id}/history", response_model=list[schemas.HistoryEvent])
def history(
    post_id: uuid.UUID, principal: Reader, session: SessionDep
) -> list[schemas.HistoryEvent]:
    """Every change and decision on this post, oldest first."""
    return [
        schemas.HistoryEvent(
            action=e.action, at=e.created_at, actor_user_id=e.actor_user_id, data=e.data
        )
        for e in service.history(session, principal, post_id)
    ]


library_router = APIRouter(prefix="/api/v1/media", tags=["content"])


@library_router.get("", response_model=list[schemas.LibraryImageOut])
def media_library(principal: Reader, session: SessionDep) -> list[schemas.LibraryImageOut]:
    """The workspace's images (each once, newest first, at most 100) and where they are used."""
    return [
        schemas.LibraryImageOut(
            media=schemas.MediaOut.model_validate(item.media),
            post_ids=[p.id for p in item.posts],
        )
        for item in library.library(session, principal)
    ]


@library_router.delete("/{media_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_library_image(media_id: uuid.UUID, principal: Drafter, session: SessionDep) -> None:
    """Delete an image no post uses (409 while a post uses it)."""
    library.delete_unused(session, principal, media_id)
