"""Content pages: the list with a generate form, the editor with live previews, approvals."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from digipersona.ai import service as ai
from digipersona.audit import service as audit
from digipersona.auth.dependencies import UnboundWebPrincipal, WebPrincipal
from digipersona.auth.permissions import Permission
from digipersona.db import FactoryDep, SessionDep
from digipersona.exceptions import DigipersonaError
from digipersona.kit.words import plural
from digipersona.models import Persona
from digipersona.personas import service as personas
from digipersona.posts import bulk, library, review_links, service
from digipersona.posts.previews import Preview, previews
from digipersona.posts.schemas import PLATFORM_IDS
from digipersona.posts.variants import fit_post
from digipersona.publishing.repository import scheduled_times
from digipersona.web.forms import CheckedForm
from digipersona.web.templating import flash, render, templates

router = APIRouter()
# Posts per page of the content and approvals lists (a page renders every variant of each).
PAGE = 50
# The latest events of a post's history its page shows (the API has them all).
HISTORY_SHOWN = 100
# An import file at most this big: the confirm step sends it back as a form field (1 MB max).
IMPORT_MAX_BYTES = 900_000
STATUS_FILTERS = ("draft", "in_review", "approved", "rejected", "scheduled", "published", "failed")


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _local_times(
    session: SessionDep, items: list[service.PostView], persona_list: list[Persona]
) -> dict[uuid.UUID, datetime]:
    """Each listed post's first scheduled time, in its persona's time zone (as the calendar)."""
    zones = {p.id: p.timezone for p in persona_list}
    persona_of = {v.post.id: v.post.persona_id for v in items}
    out = {}
    for post_id, at in scheduled_times(session, list(persona_of)).items():
        persona_id = persona_of[post_id]
        try:
            out[post_id] = at.astimezone(ZoneInfo(zones.get(persona_id) or "UTC"))
        except (ValueError, KeyError):  # a zone name this system does not know
            out[post_id] = at
    return out


@router.get("/content")
def content_page(
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    status: str | None = None,
    persona_id: str | None = None,
    q: str | None = None,
    platform: str | None = None,
    cursor: str | None = None,
) -> Response:
    """The posts, newest first, with the calendar's cues; the filters live in the URL."""
    status = status if status in STATUS_FILTERS else None
    platform = platform if platform in PLATFORM_IDS else None
    persona_uuid = _uuid(persona_id)
    q = (q or "").strip()[:200] or None
    page = service.page_posts(
        session,
        principal,
        status=status,
        persona_id=persona_uuid,
        platform=platform,
        q=q,
        limit=PAGE,
        cursor=cursor or None,
    )
    persona_list, _ = personas.list_personas(session, principal, limit=200)
    filters = {
        "status": status,
        "persona_id": str(persona_uuid or "") or None,
        "platform": platform,
        "q": q,
    }
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        "posts/list.html",
        {
            "active": "content",
            "views": page.items,
            "page": page,
            "base": "/content?" + query,
            "export_query": query,
            "personas": persona_list,
            "names": {p.id: p.name for p in persona_list},
            "by_id": {p.id: p for p in persona_list},
            "scheduled": _local_times(session, page.items, persona_list),
            "platforms": PLATFORM_IDS,
            "statuses": STATUS_FILTERS,
            "filters": filters,
            "can_draft": principal.can(Permission.drafts),
            "ai_offline": ai.uses_offline_writer(
                session, principal.workspace_id, request.app.state.settings
            ),
            "ai_admin": principal.can(Permission.admin),
        },
    )


@router.get("/content/export")
def export_page(
    principal: WebPrincipal,
    session: SessionDep,
    format: str = "csv",
    status: str | None = None,
    persona_id: str | None = None,
    platform: str | None = None,
    q: str | None = None,
) -> Response:
    """The list's posts under its filters as CSV or JSON (what ``GET /api/v1/content/export``
    answers), for the Export buttons of the content page."""
    posts = bulk.matching_posts(
        session,
        principal,
        status=status if status in STATUS_FILTERS else None,
        persona_id=_uuid(persona_id),
        platform=platform if platform in PLATFORM_IDS else None,
        q=(q or "").strip()[:200] or None,
    )
    rows = list(bulk.export_rows(session, posts))
    if format == "json":
        return StreamingResponse(
            bulk.to_json(rows),
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="posts.json"'},
        )
    return StreamingResponse(
        bulk.to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="posts.csv"'},
    )


def _import_rows(text: str, filename: str) -> list[dict[str, Any]]:
    """The rows of an uploaded CSV or JSON file (JSON when it looks like JSON)."""
    if filename.lower().endswith(".json") or text.lstrip().startswith(("[", "{")):
        return bulk.parse_json(text)
    return bulk.parse_csv(text)


@router.post("/content/import")
def import_submit(
    request: Request, principal: WebPrincipal, session: SessionDep, data: CheckedForm
) -> Response:
    """Upload -> a dry run listing each row's problems -> confirm (the checked text comes back
    in the form, so nothing is kept on the server between the two steps)."""
    upload = data.file("file")
    if upload is not None:
        raw = upload.file.read(IMPORT_MAX_BYTES + 1)
        filename = upload.filename or ""
    else:
        raw = data.get("text").encode()
        filename = data.get("filename")
    if len(raw) > IMPORT_MAX_BYTES:
        flash(request, f"The file is over {IMPORT_MAX_BYTES // 1000} KB: split it.", "error")
        return RedirectResponse("/content", status_code=303)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        flash(request, "The file is not UTF-8 text: save it as UTF-8 CSV or JSON.", "error")
        return RedirectResponse("/content", status_code=303)
    confirm = data.get("confirm") == "1"
    try:
        rows = _import_rows(text, filename)
        report = bulk.import_rows(session, principal, rows, dry_run=not confirm)
    except DigipersonaError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return RedirectResponse("/content", status_code=303)
    if confirm:
        flash(request, f"Imported {plural(report.created, 'draft')}.")
        return RedirectResponse("/content?status=draft", status_code=303)
    return render(
        request,
        "posts/import.html",
        {
            "active": "content",
            "report": report,
            "problems": report.problems[: bulk.MAX_REPORTED],
            "text": text,
            "filename": filename,
        },
    )


@router.post("/content/generate")
def generate_submit(
    request: Request,
    principal: UnboundWebPrincipal,
    factory: FactoryDep,
    data: CheckedForm,
) -> Response:
    try:
        # In a worker thread: the model may take seconds, the event loop must keep serving.
        views = service.generate(
            factory,
            principal,
            request.app.state.settings,
            persona_id=uuid.UUID(data.get("persona_id", "")),
            brief=data.get("brief", "").strip() or "",
            platforms=data.getlist("platforms"),
            count=int(data.get("count") or 1),
        )
    except (DigipersonaError, ValueError) as exc:
        flash(
            request,
            getattr(exc, "message", None)
            or "Check the form: persona, brief and platforms are needed.",
            "error",
        )
        return RedirectResponse("/content", status_code=303)
    flash(request, f"{plural(len(views), 'draft')} generated.")
    return RedirectResponse(f"/content/{views[0].post.id}", status_code=303)


@router.post("/content/new")
def new_submit(
    request: Request, principal: WebPrincipal, session: SessionDep, data: CheckedForm
) -> Response:
    try:
        view = service.create(
            session,
            principal,
            persona_id=uuid.UUID(data.get("persona_id", "")),
            body=data.get("body", "").strip(),
            platforms=data.getlist("platforms"),
        )
    except (DigipersonaError, ValueError) as exc:
        session.rollback()
        flash(
            request,
            getattr(exc, "message", None) or "Choose a persona and at least one platform.",
            "error",
        )
        return RedirectResponse("/content", status_code=303)
    return RedirectResponse(f"/content/{view.post.id}", status_code=303)


def _editor_context(
    request: Request, principal: Any, session: Any, post_id: uuid.UUID
) -> dict[str, Any]:
    post = service.get(session, principal, post_id)
    view = service.view(session, post)
    persona = personas.get(session, principal, post.persona_id)
    from digipersona.publishing.service import target_states

    targets = target_states(session, post)
    events = audit.latest_for_object(
        session, principal.workspace_id, post.id, limit=HISTORY_SHOWN + 1
    )
    shown = events[:HISTORY_SHOWN]
    return {
        "active": "content",
        "view": view,
        "post": post,
        "persona": persona,
        "platforms": PLATFORM_IDS,
        "targets": targets,
        "unconnected": [t.platform for t in targets if t.state == "not_connected"],
        "history": shown,
        "history_more": len(events) > len(shown),
        "actors": audit.actor_names(session, {e.actor_user_id for e in shown if e.actor_user_id}),
        "library": library.library(session, principal, limit=50)
        if principal.can(Permission.drafts)
        else [],
        "can_draft": principal.can(Permission.drafts),
        "can_approve": principal.can(Permission.approve),
        "can_publish": principal.can(Permission.publish),
        "tz": persona.timezone,
        "previews": previews(view.variants, persona, view.accounts, view.media, post.platforms),
    }


@router.get("/content/{post_id}")
def editor_page(
    post_id: uuid.UUID, request: Request, principal: WebPrincipal, session: SessionDep
) -> Response:
    return render(
        request, "posts/editor.html", _editor_context(request, principal, session, post_id)
    )


@router.post("/content/{post_id}/preview")
def preview(
    post_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    data: CheckedForm,
) -> Response:
    """Live per-platform previews and length counters for unsaved text (htmx)."""
    post = service.get(session, principal, post_id)
    persona = personas.get(session, principal, post.persona_id)
    body = data.get("body", "")
    view = service.view(session, post)
    # A variant edited by hand keeps its own text: only the others follow the typed body.
    custom = {v.platform: v for v in view.variants if v.custom}
    variants: list[Any] = [
        custom.get(p) or fit_post(p, body, persona.hashtags, numbering=post.thread_numbering)
        for p in post.platforms
    ]
    return templates.TemplateResponse(
        request,
        "posts/_previews.html",
        {
            "previews": previews(variants, persona, view.accounts, view.media, post.platforms),
            "persona": persona,
        },
    )


@router.post("/content/{post_id}/edit")
def edit_submit(
    post_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    data: CheckedForm,
) -> Response:
    changes: dict[str, Any] = {"body": data.get("body", "").strip()}
    if data.get("version", "").isdigit():
        changes["version"] = int(data.get("version"))
    if data.getlist("platforms"):
        changes["platforms"] = data.getlist("platforms")
    priority = data.get("priority", "")
    if priority.lstrip("-").isdigit() and -100 <= int(priority) <= 100:
        changes["priority"] = int(priority)
    try:
        service.update(session, principal, post_id, changes)
        flash(request, "Saved.")
    except DigipersonaError as exc:
        session.rollback()
        context = _editor_context(request, principal, session, post_id)
        context["error"] = exc.message
        context["typed_body"] = data.get("body", "")
        return render(request, "posts/editor.html", context, status_code=exc.status_code)
    return RedirectResponse(f"/content/{post_id}", status_code=303)


@router.post("/content/{post_id}/decide")
def decide(
    post_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    data: CheckedForm,
) -> Response:
    """Submit, approve or reject from a form (the editor or the approval inbox)."""
    action = data.get("action")
    version = int(data.get("version")) if data.get("version", "").isdigit() else None
    back = data.get("back") or f"/content/{post_id}"
    if not back.startswith("/") or back.startswith("//"):
        back = f"/content/{post_id}"
    try:
        if action == "submit":
            service.submit(session, principal, post_id, version)
            flash(request, "Sent for review.")
        elif action == "approve":
            service.approve(session, principal, post_id, version=version)
            flash(request, "Approved.")
        elif action == "reject":
            service.reject(
                session,
                principal,
                post_id,
                reason=(data.get("reason") or "").strip() or "",
                version=version,
            )
            flash(request, "Rejected; the author sees your reason.")
        else:
            flash(request, "Unknown action.", "error")
    except DigipersonaError as exc:
        session.rollback()
        flash(request, _with_details(exc), "error")
    return RedirectResponse(back, status_code=303)


def _with_details(exc: DigipersonaError) -> str:
    """The error and those of its details it does not already say (a failed submit's message
    lists the problems itself: each banned phrase was named twice)."""
    extra = [
        message
        for message in dict.fromkeys(str(e.get("message", "")) for e in exc.errors[:5])
        if message and message not in exc.message
    ]
    return " ".join([exc.message, "; ".join(extra)]).strip()


@router.post("/content/{post_id}/suggest")
def suggest(
    post_id: uuid.UUID,
    request: Request,
    principal: UnboundWebPrincipal,
    factory: FactoryDep,
    data: CheckedForm,
) -> Response:
    try:
        # In a worker thread, holding no request session: the model may take seconds.
        text, _ = service.suggest(
            factory,
            principal,
            request.app.state.settings,
            post_id,
            kind=data.get("kind", "shorten"),
            tone=data.get("tone") or None,
            language=data.get("language") or None,
        )
        return templates.TemplateResponse(
            request, "posts/_suggestion.html", {"text": text, "kind": data.get("kind")}
        )
    except DigipersonaError as exc:
        return HTMLResponse(
            f'<p class="field-error" role="alert">{_escape(exc.message)}</p>', status_code=200
        )


@router.post("/content/{post_id}/schedule")
def schedule_submit(
    post_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    data: CheckedForm,
) -> Response:
    from digipersona.publishing import service as publishing

    post = service.get(session, principal, post_id)
    persona = personas.get(session, principal, post.persona_id)
    at = None
    try:
        if data.get("when") == "at" and data.get("at"):
            local = datetime.fromisoformat(data.get("at"))
            at = local.replace(tzinfo=ZoneInfo(persona.timezone)) if local.tzinfo is None else local
        skipped = publishing.unconnected_targets(session, post)
        if skipped and data.get("skip_unconnected") != "1":
            flash(
                request,
                f"No active connection for {', '.join(skipped)}: connect them first, or confirm "
                "that the post goes to the connected targets only.",
                "error",
            )
            return RedirectResponse(f"/content/{post_id}", status_code=303)
        publishing.schedule(session, principal, request.app.state.settings, post_id, at=at)
        flash(
            request,
            "Scheduled." + (f" Skipped, not connected: {', '.join(skipped)}." if skipped else ""),
        )
    except (DigipersonaError, ValueError) as exc:
        session.rollback()
        flash(request, getattr(exc, "message", None) or "Give a date and time.", "error")
    return RedirectResponse(f"/content/{post_id}", status_code=303)


@router.get("/approvals")
def approvals_page(
    request: Request, principal: WebPrincipal, session: SessionDep, cursor: str | None = None
) -> Response:
    page = service.page_posts(
        session, principal, status="in_review", limit=PAGE, cursor=cursor or None
    )
    persona_list, _ = personas.list_personas(session, principal, limit=200)
    by_id = {p.id: p for p in persona_list}
    cards = [
        (v, by_id.get(v.post.persona_id), _card_previews(v, by_id.get(v.post.persona_id)))
        for v in page.items
    ]
    return render(
        request,
        "posts/approvals.html",
        {
            "active": "approvals",
            "views": page.items,
            "cards": cards,
            "page": page,
            "names": {p.id: p.name for p in persona_list},
            "can_approve": principal.can(Permission.approve),
            "can_link": principal.can(Permission.write),
            "review_links": review_links.list_active(session, principal)
            if principal.can(Permission.write)
            else [],
        },
    )


def _card_previews(view: service.PostView, persona: Persona | None) -> list[Preview]:
    if persona is None:
        return []
    return previews(view.variants, persona, view.accounts, view.media, view.post.platforms)


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))
