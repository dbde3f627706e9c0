"""The "Autopilot" section of a persona page: what happens next, recent runs, rule/feed forms."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from digipersona.auth.dependencies import (
    SettingsDep,
    UnboundWebPrincipal,
    WebPrincipal,
)
from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.autopilot import schemas, service
from digipersona.config import Settings
from digipersona.db import FactoryDep, SessionDep
from digipersona.exceptions import DigipersonaError
from digipersona.kit.time import utcnow
from digipersona.models import AutopilotRun, Persona
from digipersona.scheduling.describe import describe_slot_instant
from digipersona.web.forms import CheckedForm
from digipersona.web.templating import flash, render

router = APIRouter(prefix="/personas/{persona_id}/autopilot")


@dataclass
class RunLine:
    when: str
    source: str
    status: str
    text: str
    post_ids: list[str]


def run_line(run: AutopilotRun, tz: str) -> RunLine:
    """A run as one sentence for people."""
    if run.status == "generated":
        n = len(run.post_ids)
        text = f"{n} draft{'s' if n != 1 else ''} made"
        title = run.details.get("title")
        if title:
            text += f" on \u201c{title}\u201d"
    elif run.status == "failed":
        text = f"Failed: {run.error}"
    else:
        text = run.reason or "Nothing to do."
    return RunLine(
        describe_slot_instant(run.started_at, tz), run.source, run.status, text, list(run.post_ids)
    )


def section(session: Session, principal: Principal, persona: Persona) -> dict[str, Any]:
    """Everything the persona page shows about the autopilot."""
    [item] = service.status(session, principal, persona_id=persona.id, now=utcnow(), runs=10)
    engagement = next((t for t in item.triggers if t.kind == "engagement"), None)
    return {
        "engagement": engagement,
        "rules": [
            {"rule": rule, "schedule": schedule, "next": next_step}
            for rule, schedule, next_step in item.rules
        ],
        "triggers": item.triggers,
        "runs": [run_line(r, persona.timezone) for r in item.runs],
        "auto_approve": persona.approval_policy == "auto_approve",
        "can_run": principal.can(Permission.drafts),
    }


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _back(persona_id: uuid.UUID) -> RedirectResponse:
    return RedirectResponse(f"/personas/{persona_id}#autopilot", status_code=303)


def _refused(
    request: Request, persona_id: uuid.UUID, what: str, exc: ValidationError | DigipersonaError
) -> RedirectResponse:
    """Back to the persona's autopilot section, flashing what was refused and why."""
    reason = _first_error(exc) if isinstance(exc, ValidationError) else exc.message
    flash(request, f"{what} {reason}", "error")
    return _back(persona_id)


@router.post("/rules")
def add_rule(
    persona_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    form: CheckedForm,
) -> Response:
    principal.require(Permission.write)
    topics = [t.strip() for t in form.get("topics", "").split(",") if t.strip()]
    data: dict[str, Any] = {
        "rrule": form.get("rrule", ""),
        "count": form.get("count") or "1",
        "mode": form.get("mode") or "fixed",
        "platforms": form.getlist("platforms") or ["linkedin"],
        "topics": topics,
        "destination": form.get("destination") or "review",
    }
    try:
        rule = service.create_rule(
            session, principal, persona_id, schemas.RuleCreate.model_validate(data)
        )
    except (ValidationError, DigipersonaError) as exc:
        return _refused(request, persona_id, "The rule was not added.", exc)
    persona = session.get(Persona, rule.persona_id)
    assert persona is not None
    flash(request, f"Rule added. Next: {service.describe_next(session, rule, persona, utcnow())}")
    return _back(persona_id)


@router.post("/rules/{rule_id}/delete")
def delete_rule(
    persona_id: uuid.UUID,
    rule_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    _csrf: CheckedForm,
) -> Response:
    service.delete_rule(session, principal, persona_id, rule_id)
    flash(request, "Rule removed.")
    return _back(persona_id)


@router.post("/feeds")
def add_feed(
    persona_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    form: CheckedForm,
) -> Response:
    principal.require(Permission.write)
    data = {
        "kind": "feed",
        "feed_url": form.get("feed_url", "").strip() or None,
        "platforms": form.getlist("platforms") or ["linkedin"],
        "poll_minutes": form.get("poll_minutes") or "30",
    }
    try:
        service.create_trigger(
            session,
            principal,
            persona_id,
            schemas.TriggerCreate.model_validate(data),
            settings=settings,
        )
    except (ValidationError, DigipersonaError) as exc:
        return _refused(request, persona_id, "The feed was not added.", exc)
    flash(
        request, "Feed added: the items already in it are the starting point; new ones get drafts."
    )
    return _back(persona_id)


def _secret_page(
    request: Request, settings: Settings, created: service.CreatedTrigger, *, rotated: bool
) -> Response:
    """The webhook's address and secret token, on a page of their own: shown this once."""
    trigger = created.trigger
    persona_id = trigger.persona_id
    path = f"/api/v1/personas/{persona_id}/triggers/{trigger.id}"
    response = render(
        request,
        "autopilot/webhook_secret.html",
        {
            "active": "personas",
            "persona_id": persona_id,
            "trigger": trigger,
            "url": settings.public_base_url + path,
            "token": created.token,
            "rotated": rotated,
        },
    )
    # The token must not be kept by the browser or any proxy.
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/webhooks")
def add_webhook(
    persona_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    form: CheckedForm,
) -> Response:
    principal.require(Permission.write)
    data = {
        "kind": "webhook",
        "name": form.get("name", "").strip(),
        "platforms": form.getlist("platforms") or ["linkedin"],
        "destination": form.get("destination") or "review",
    }
    try:
        created = service.create_trigger(
            session, principal, persona_id, schemas.TriggerCreate.model_validate(data)
        )
    except (ValidationError, DigipersonaError) as exc:
        return _refused(request, persona_id, "The webhook was not added.", exc)
    return _secret_page(request, settings, created, rotated=False)


@router.post("/triggers/{trigger_id}/rotate")
def rotate_webhook_token(
    persona_id: uuid.UUID,
    trigger_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    _csrf: CheckedForm,
) -> Response:
    try:
        created = service.rotate_token(session, principal, persona_id, trigger_id)
    except DigipersonaError as exc:
        if exc.status_code in (401, 403, 404):
            raise
        flash(request, f"The token was not changed. {exc.message}", "error")
        return _back(persona_id)
    return _secret_page(request, settings, created, rotated=True)


@router.post("/engagement")
def set_engagement(
    persona_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    form: CheckedForm,
) -> Response:
    """Turn engagement follow-ups on (creating the trigger the first time) or off."""
    principal.require(Permission.write)
    enabled = form.get("enabled") == "on"
    existing = [
        t for t in service.list_triggers(session, principal, persona_id) if t.kind == "engagement"
    ]
    try:
        if existing:
            service.update_trigger(
                session,
                principal,
                persona_id,
                existing[0].id,
                schemas.TriggerUpdate(enabled=enabled),
            )
        elif enabled:
            data = {
                "kind": "engagement",
                "platforms": form.getlist("platforms") or ["linkedin"],
                "destination": form.get("destination") or "review",
            }
            service.create_trigger(
                session, principal, persona_id, schemas.TriggerCreate.model_validate(data)
            )
    except (ValidationError, DigipersonaError) as exc:
        return _refused(request, persona_id, "Engagement follow-ups were not changed.", exc)
    if enabled:
        flash(
            request,
            "Engagement follow-ups are on: a high-scoring lead or a post doing well above "
            "the usual gets a follow-up draft.",
        )
    else:
        flash(request, "Engagement follow-ups are off.")
    return _back(persona_id)


@router.post("/triggers/{trigger_id}/delete")
def delete_trigger(
    persona_id: uuid.UUID,
    trigger_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    _csrf: CheckedForm,
) -> Response:
    service.delete_trigger(session, principal, persona_id, trigger_id)
    flash(request, "Trigger removed.")
    return _back(persona_id)


@router.post("/run")
def run_now(
    persona_id: uuid.UUID,
    request: Request,
    principal: UnboundWebPrincipal,
    factory: FactoryDep,
    settings: SettingsDep,
    _csrf: CheckedForm,
) -> Response:
    # In a worker thread, holding no request session: the model may take seconds.
    runs = service.run_persona_now(factory, principal, settings, persona_id)
    made = sum(len(r.post_ids) for r in runs)
    if not runs:
        flash(request, "There is no enabled rule to run.", "error")
    elif any(r.status == "failed" for r in runs):
        failed = next(r for r in runs if r.status == "failed")
        flash(request, f"The autopilot could not draft: {failed.error}", "error")
    else:
        flash(request, f"The autopilot ran {len(runs)} rule(s) and made {made} draft(s).")
    return _back(persona_id)
