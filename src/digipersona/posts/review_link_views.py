"""The public page of a review link (``/review/{token}``): no session, a form token per link.

The token in the path is a credential: ``kit/logging`` masks ``/review/<token>`` in access
lines. Unknown tokens count against the address like failed logins (``kit/ratelimit``).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from digipersona.auth.dependencies import SettingsDep, WebPrincipal, client_ip
from digipersona.db import SessionDep
from digipersona.exceptions import DigipersonaError, Gone, NotFound
from digipersona.models import ReviewLink
from digipersona.posts import review_links
from digipersona.posts.previews import previews
from digipersona.web.forms import CheckedForm
from digipersona.web.templating import flash, render

router = APIRouter()
PAGE = "posts/review_link.html"


def _page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: str,
    link: ReviewLink,
    *,
    message: str = "",
    ok: bool = False,
    status_code: int = 200,
) -> Response:
    items = review_links.items(session, link)
    context: dict[str, Any] = {
        "link": link,
        "token": token,
        "form_token": review_links.form_token(settings, link),
        "review_items": items,
        "item_previews": {
            i.view.post.id: previews(
                i.view.variants, i.persona, i.view.accounts, i.view.media, i.view.post.platforms
            )
            for i in items
        },
        "message": message,
        "ok": ok,
    }
    response = render(request, PAGE, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _gone(request: Request, exc: NotFound | Gone) -> Response:
    response = render(
        request,
        PAGE,
        {"gone": True, "status": exc.status_code, "message": exc.message},
        status_code=exc.status_code,
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.get("/review/{token}", include_in_schema=False)
def review_page(
    token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    """The posts of a link, each as it will look on each platform, with the decisions."""
    try:
        link = review_links.open_link(
            session, settings, request.app.state.limiter, token, ip=client_ip(request)
        )
    except (NotFound, Gone) as exc:
        return _gone(request, exc)
    return _page(request, session, settings, token, link)


@router.post("/review/{token}/decide", include_in_schema=False)
def review_decide(
    token: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    post_id: str = Form(default="", max_length=64),
    decision: str = Form(default="", max_length=32),
    comment: str = Form(default="", max_length=4000),
    version: str = Form(default="", max_length=12),
    form_token: str = Form(default="", max_length=128),
) -> Response:
    """Approve, ask for changes or reject one post of the link."""
    try:
        link = review_links.open_link(
            session, settings, request.app.state.limiter, token, ip=client_ip(request)
        )
    except (NotFound, Gone) as exc:
        return _gone(request, exc)
    try:
        target = uuid.UUID(post_id)
    except ValueError:
        return _page(
            request, session, settings, token, link, message="Choose a post.", status_code=400
        )
    chosen = review_links.DECISIONS.get(decision)
    if chosen is None:
        return _page(
            request, session, settings, token, link, message="Choose a decision.", status_code=400
        )
    try:
        review_links.decide(
            session,
            settings,
            link,
            target,
            chosen,
            submitted_form_token=form_token,
            version=int(version) if version.isdigit() else None,
            comment=comment,
        )
    except DigipersonaError as exc:
        return _page(
            request,
            session,
            settings,
            token,
            link,
            message=exc.message,
            status_code=exc.status_code,
        )
    done = {
        "approve": "Approved",
        "request_changes": "Sent back with your comment",
        "reject": "Rejected",
    }
    return _page(
        request, session, settings, token, link, message=f"{done[decision]}. Thank you.", ok=True
    )


# -- the editor's side (Approvals page) --------------------------------------------------------
@router.post("/approvals/review-links", include_in_schema=False)
def create_link_page(
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    form: CheckedForm,
) -> Response:
    """Make a link for the ticked posts and show its URL this once."""
    ids: list[uuid.UUID] = []
    for value in form.getlist("post_id")[: review_links.MAX_POSTS + 1]:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue
    days = form.get("days", "")
    try:
        link, token = review_links.create(
            session,
            principal,
            ids,
            name=form.get("name", "")[:100],
            expires_in_days=int(days) if days.isdigit() else review_links.DEFAULT_DAYS,
        )
    except DigipersonaError as exc:
        flash(request, exc.message, "error")
        return RedirectResponse("/approvals", status_code=303)
    response = render(
        request,
        "posts/review_link_created.html",
        {"active": "approvals", "link": link, "url": f"{settings.public_base_url}/review/{token}"},
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/approvals/review-links/{link_id}/revoke", include_in_schema=False)
def revoke_link_page(
    link_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    _: CheckedForm,
) -> Response:
    """Withdraw a link from the Approvals page."""
    review_links.revoke(session, principal, link_id)
    flash(request, "The review link was revoked: it no longer works.")
    return RedirectResponse("/approvals", status_code=303)
