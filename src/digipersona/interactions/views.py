"""The Interactions page (inbox with filters, lead badges, bulk triage, reply drafts) and the
dashboard's Interactions panel."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from digipersona.auth.dependencies import UnboundWebPrincipal, WebPrincipal, check_csrf
from digipersona.auth.permissions import Permission
from digipersona.db import FactoryDep, SessionDep
from digipersona.exceptions import DigipersonaError
from digipersona.interactions import lead_learning, replies, service
from digipersona.kit.time import utcnow
from digipersona.kit.words import plural
from digipersona.personas import service as personas
from digipersona.personas.reply_templates import templates_of
from digipersona.web.forms import FormBody
from digipersona.web.templating import flash, render

router = APIRouter(prefix="/interactions")

KINDS = ("mention", "reply", "comment", "quote")
STATUSES = ("new", "read", "replied", "ignored")
PAGE = 50


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _day(value: str | None) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC) if value else None
    except ValueError:
        return None


@router.get("")
def page(
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    persona_id: str | None = None,
    platform: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    min_score: str | None = None,
    since: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
) -> Response:
    filters = {
        "persona_id": persona_id or "",
        "platform": platform or "",
        "kind": kind if kind in KINDS else "",
        "status": status if status in STATUSES else "",
        "min_score": min_score if (min_score or "").isdigit() else "",
        "since": since if _day(since) else "",
        "q": (q or "").strip()[:200],
    }
    page = service.page_interactions(
        session,
        principal,
        persona_id=_uuid(persona_id),
        platform=filters["platform"] or None,
        kind=filters["kind"] or None,
        status=filters["status"] or None,
        min_score=min(100, int(filters["min_score"])) if filters["min_score"] else None,
        since=_day(filters["since"]),
        q=filters["q"] or None,
        limit=PAGE,
        cursor=cursor or None,
    )
    persona_list, _ = personas.list_personas(session, principal, limit=200)
    templates = {p.id: templates_of(p)[0] for p in persona_list}
    return render(
        request,
        "interactions/page.html",
        {
            "active": "interactions",
            "items": page.items,
            "page": page,
            "filters": filters,
            "query": urlencode({k: v for k, v in filters.items() if v}),
            "personas": persona_list,
            "names": {p.id: p.name for p in persona_list},
            "templates": templates,
            "sources": service.sources(session, principal),
            "kinds": KINDS,
            "statuses": STATUSES,
            "can_triage": principal.can(Permission.drafts),
        },
    )


@router.get("/panel")
def panel(request: Request, principal: WebPrincipal, session: SessionDep) -> Response:
    """The dashboard's Interactions tab: recent and high-lead interactions, and the gaps."""
    recent, total = service.list_interactions(session, principal, limit=8)
    leads, lead_total = service.list_interactions(
        session, principal, is_lead=True, status="new", limit=8
    )
    persona_list, _ = personas.list_personas(session, principal, limit=200)
    return render(
        request,
        "interactions/_panel.html",
        {
            "recent": recent,
            "total": total,
            "leads": leads,
            "lead_total": lead_total,
            "names": {p.id: p.name for p in persona_list},
            "sources": service.sources(session, principal),
        },
    )


def _back(form: dict[str, Any]) -> str:
    target = str(form.get("back") or "/interactions")
    return target if target.startswith("/interactions") else "/interactions"


@router.post("/bulk")
def bulk(request: Request, principal: WebPrincipal, session: SessionDep, raw: FormBody) -> Response:
    form = {k: str(v) for k, v in raw.items()}
    check_csrf(request, form.get("csrf_token"))
    ids = [i for i in (_uuid(str(v)) for v in raw.getlist("ids")) if i is not None]
    status = form.get("status", "")
    if not ids:
        flash(request, "Tick at least one interaction first.", "error")
    elif status not in ("read", "ignored", "new"):
        flash(request, "Choose whether to mark them read, ignored or new.", "error")
    else:
        try:
            count = service.set_status(session, principal, ids, status)
            flash(request, f"Marked {plural(count, 'interaction')} {status}.")
        except DigipersonaError as exc:
            session.rollback()
            flash(request, exc.message, "error")
    return RedirectResponse(_back(form), status_code=303)


LABELS = {"lead": True, "not_lead": False, "clear": None}


@router.post("/{interaction_id}/lead-label")
def lead_label(
    interaction_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    body: FormBody,
) -> Response:
    """Mark an interaction a lead or not a lead (a training label for the lead model)."""
    form = {k: str(v) for k, v in body.items()}
    check_csrf(request, form.get("csrf_token"))
    choice = form.get("label", "")
    if choice not in LABELS:
        flash(request, "Choose 'Lead' or 'Not a lead'.", "error")
        return RedirectResponse(_back(form), status_code=303)
    try:
        lead_learning.set_label(session, principal, interaction_id, LABELS[choice], utcnow())
    except DigipersonaError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return RedirectResponse(_back(form), status_code=303)
    if LABELS[choice] is None:
        flash(request, "Label cleared.")
    else:
        flash(
            request,
            "Marked. Lead detection learns from it at the next `digipersona leads retrain`.",
        )
    return RedirectResponse(_back(form), status_code=303)


@router.post("/{interaction_id}/reply")
def reply(
    interaction_id: uuid.UUID,
    request: Request,
    principal: UnboundWebPrincipal,
    factory: FactoryDep,
    body: FormBody,
) -> Response:
    form = {k: str(v) for k, v in body.items()}
    check_csrf(request, form.get("csrf_token"))
    source = form.get("source", "text")
    try:
        # In a worker thread, holding no request session: an AI reply may take seconds.
        result = replies.create_draft(
            factory,
            principal,
            request.app.state.settings,
            interaction_id,
            template_id=form.get("template_id") or None if source == "template" else None,
            ai=source == "ai",
            text=(form.get("text") or "").strip() or None if source == "text" else None,
        )
    except DigipersonaError as exc:
        flash(request, exc.message, "error")
        return RedirectResponse(_back(form), status_code=303)
    if result["auto_sent"]:
        flash(request, "Reply sent for publishing (the persona auto-sends this template class).")
    else:
        flash(request, "Reply drafted: review it, then submit it for approval.")
    return RedirectResponse(f"/content/{result['post_id']}", status_code=303)
