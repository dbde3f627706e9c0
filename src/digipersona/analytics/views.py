"""Analytics pages: the /analytics page (filters, SVG charts, top posts, what platforms lack)."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from digipersona.analytics import charts, experiments, forecast, overview, post_figures, slots
from digipersona.auth.dependencies import WebPrincipal, check_csrf
from digipersona.auth.permissions import Permission
from digipersona.db import SessionDep
from digipersona.exceptions import DigipersonaError, NotFound, ValidationFailed
from digipersona.interactions import lead_learning
from digipersona.kit.time import utcnow
from digipersona.personas import service as personas
from digipersona.platforms.registry import platform_ids
from digipersona.posts import service as post_service
from digipersona.web.forms import FormBody
from digipersona.web.templating import flash, render

router = APIRouter()


def page_context(
    session: Any,
    principal: Any,
    *,
    persona_id: uuid.UUID | None,
    platform: str | None,
    days: int,
) -> dict[str, Any]:
    """Everything the analytics page and the dashboard tab render."""
    end = utcnow()
    start = datetime.combine((end - timedelta(days=days)).date(), time(), tzinfo=end.tzinfo)
    data = overview.workspace_analytics(
        session, principal, persona_id=persona_id, platform=platform, start=start, end=end
    )
    best = data["best_times"]
    suggestions = slots.slot_suggestions(session, principal, persona_id) if persona_id else None
    recent, _ = experiments.list_ab_tests(session, principal, persona_id=persona_id, limit=10)
    ab_tests = [experiments.ab_result(session, t) for t in recent]
    return {
        "ab_tests": ab_tests,
        "lead_model": lead_learning.quality(session, principal.workspace_id),
        "suggestions": suggestions,
        "data": data,
        "trend_svg": charts.trend_line(data["trend"]),
        "weekday_svg": charts.weekday_bars(best["weekdays"]) if best["measured_posts"] else None,
        "heatmap_svg": charts.heatmap(best["cells"]),
        "days": days,
    }


@router.get("/analytics")
def analytics_page(
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    persona_id: str = "",
    platform: str = "",
    days: int = 90,
) -> Response:
    """Engagement for a persona/platform over the last ``days`` days."""
    persona_list, _ = personas.list_personas(session, principal, limit=200)
    error = None
    status_code = 200
    pid: uuid.UUID | None = None
    if persona_id:
        try:
            pid = uuid.UUID(persona_id)
        except ValueError:
            error, status_code = "Choose a persona from the list.", 422
    days = min(max(days, 7), overview.MAX_RANGE.days - 1)
    context: dict[str, Any] = {}
    if error is None:
        try:
            context = page_context(
                session, principal, persona_id=pid, platform=platform or None, days=days
            )
        except DigipersonaError as exc:
            error, status_code = exc.message, exc.status_code
    return render(
        request,
        "analytics/page.html",
        {
            "active": "analytics",
            "personas": persona_list,
            "platforms": platform_ids(),
            "persona_id": persona_id,
            "platform": platform,
            "days": days,
            "error": error,
            **context,
        },
        status_code=status_code,
    )


@router.get("/analytics/forecast/{post_id}")
def forecast_fragment(
    post_id: uuid.UUID, request: Request, principal: WebPrincipal, session: SessionDep
) -> Response:
    """The editor's engagement forecast and, once published, the figures so far (an htmx
    fragment; 404 for another workspace's post)."""
    outlook = forecast.predict_post(session, principal, post_id)
    figures = post_figures.content_analytics(session, principal, post_id)
    published = [p for p in figures["publications"] if p["published_at"] is not None]
    return render(
        request, "analytics/_forecast.html", {"forecast": outlook, "published": published}
    )


# -- A/B tests from the content editor ------------------------------------------------------------
AB_SOURCES = ("existing", "write")


def _ab_candidates(session: Any, principal: Any, post: Any) -> list[Any]:
    """Posts that can be variant B of ``post``: same persona, same platforms, not published."""
    views, _ = post_service.list_posts(session, principal, persona_id=post.persona_id, limit=200)
    return [
        v.post
        for v in views
        if v.post.id != post.id
        and sorted(v.post.platforms) == sorted(post.platforms)
        and v.post.status not in ("published", "failed")
    ]


def _ab_form_page(
    request: Request,
    session: Any,
    principal: Any,
    post: Any,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    persona = personas.get(session, principal, post.persona_id)
    return render(
        request,
        "analytics/ab_form.html",
        {
            "active": "content",
            "post": post,
            "persona": persona,
            "candidates": _ab_candidates(session, principal, post),
            "form": form,
            "errors": errors,
            "can_publish": principal.can(Permission.publish),
        },
        status_code=status_code,
    )


@router.get("/content/{post_id}/ab-test")
def ab_form(
    post_id: uuid.UUID, request: Request, principal: WebPrincipal, session: SessionDep
) -> Response:
    """The form to start an A/B test with this post as variant A."""
    principal.require(Permission.write)
    post = post_service.get(session, principal, post_id)
    return _ab_form_page(request, session, principal, post, {"source": "existing"}, {})


@router.post("/content/{post_id}/ab-test")
def ab_submit(
    post_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    raw: FormBody,
) -> Response:
    form = {k: str(v) for k, v in raw.items()}
    check_csrf(request, form.pop("csrf_token", None))
    principal.require(Permission.write)
    post = post_service.get(session, principal, post_id)
    source = form.get("source", "existing")
    schedule = form.get("schedule") == "on"
    errors: dict[str, str] = {}
    if source not in AB_SOURCES:
        errors["source"] = "Choose an existing post or write variant B."
    elif source == "existing" and not form.get("post_b_id"):
        errors["post_b_id"] = "Choose the post that is variant B."
    elif source == "write" and not form.get("body_b", "").strip():
        errors["body_b"] = "Write the text of variant B."
    if schedule and not principal.can(Permission.publish):
        errors["schedule"] = "Your role cannot schedule posts; start the test without scheduling."
    if errors:
        return _ab_form_page(request, session, principal, post, form, errors, 422)
    # One unit: a variant B written here is not kept when the test cannot be started.
    nested = session.begin_nested()
    field = "post_b_id"
    try:
        if source == "write":
            field = "body_b"
            view = post_service.create(
                session,
                principal,
                persona_id=post.persona_id,
                body=form["body_b"].strip(),
                platforms=list(post.platforms),
                brief=f"Variant B of an A/B test against {post.id}",
            )
            post_b_id = view.post.id
        else:
            try:
                post_b_id = uuid.UUID(form["post_b_id"])
            except ValueError:
                raise ValidationFailed("Choose the post that is variant B.") from None
        field = "post_b_id" if source == "existing" else "body_b"
        test = experiments.create_ab_test(
            session,
            principal,
            request.app.state.settings,
            post_a_id=post.id,
            post_b_id=post_b_id,
            name=form.get("name", ""),
        )
        if schedule:
            field = "schedule"
            experiments.schedule_ab_test(session, principal, request.app.state.settings, test)
    except DigipersonaError as exc:
        nested.rollback()
        if exc.status_code == 403 and field != "schedule":
            raise
        errors[field] = exc.message
        return _ab_form_page(request, session, principal, post, form, errors, exc.status_code)
    nested.commit()
    flash(
        request,
        "A/B test started"
        + (": both variants are scheduled into comparable slots." if schedule else ".")
        + " The result appears here once both have figures.",
    )
    return RedirectResponse(f"/content/{post.id}#ab-tests", status_code=303)


@router.post("/content/{post_id}/ab-tests/{test_id}/schedule")
def ab_schedule(
    post_id: uuid.UUID,
    test_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    raw: FormBody,
) -> Response:
    """Schedule both variants of an existing test into comparable slots."""
    check_csrf(request, str(raw.get("csrf_token", "")))
    test = experiments.get_ab_test(session, principal, test_id)
    if post_id not in (test.post_a_id, test.post_b_id):
        raise NotFound("No such A/B test for this post.")
    nested = session.begin_nested()
    try:
        experiments.schedule_ab_test(session, principal, request.app.state.settings, test)
    except DigipersonaError as exc:
        nested.rollback()
        if exc.status_code in (403, 404):
            raise
        flash(request, f"The variants were not scheduled. {exc.message}", "error")
        return RedirectResponse(f"/content/{post_id}#ab-tests", status_code=303)
    nested.commit()
    flash(request, "Both variants are scheduled into comparable slots.")
    return RedirectResponse(f"/content/{post_id}#ab-tests", status_code=303)


@router.get("/content/{post_id}/ab-tests")
def ab_fragment(
    post_id: uuid.UUID, request: Request, principal: WebPrincipal, session: SessionDep
) -> Response:
    """The A/B tests of a post with their results (htmx fragment of the editor)."""
    post = post_service.get(session, principal, post_id)
    tests = [
        experiments.ab_result(session, t)
        for t in experiments.ab_tests_of_post(session, principal, post.id)
    ]
    ids = {t["variants"][v]["post_id"] for t in tests for v in ("a", "b")}
    statuses: dict[uuid.UUID, str] = {}
    for pid in ids:
        try:
            statuses[pid] = post_service.get(session, principal, pid).status
        except NotFound:
            statuses[pid] = "deleted"
    return render(
        request,
        "analytics/_post_ab.html",
        {
            "post": post,
            "ab_tests": tests,
            "statuses": statuses,
            "can_write": principal.can(Permission.write),
            "can_publish": principal.can(Permission.publish),
        },
    )
