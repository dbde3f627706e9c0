"""Persona pages: list, create, detail, edit (server-rendered, validation inline)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from digipersona.auth.dependencies import WebPrincipal, check_csrf
from digipersona.auth.permissions import Permission
from digipersona.db import SessionDep
from digipersona.exceptions import DigipersonaError
from digipersona.models import Persona
from digipersona.personas import schemas, service
from digipersona.web.templating import flash, render

router = APIRouter(prefix="/personas")

LIST_FIELDS = {"topics", "hashtags", "banned_phrases", "slots", "blocked_domains"}


def _split_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _split_list(name: str, text: str) -> list[str]:
    if name in {"slots", "banned_phrases"}:
        return _split_lines(text)
    if name == "hashtags":
        return [t for t in re.split(r"[\s,]+", text) if t]
    return [t.strip() for t in re.split(r"[\n,]+", text) if t.strip()]


def _form_to_data(form: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in ("name", "bio", "voice", "audience", "language", "timezone", "approval_policy"):
        if key in form:
            data[key] = form[key]
    for key in LIST_FIELDS:
        if key in form:
            data[key] = _split_list(key, form[key])
    if "example_posts" in form:
        data["example_posts"] = [
            p.strip() for p in re.split(r"\n\s*---\s*\n", form["example_posts"]) if p.strip()
        ]
    for key in ("jitter_minutes", "max_lateness_minutes"):
        if form.get(key, "").strip():
            data[key] = form[key].strip()
    return data


def _persona_form(persona: Persona | None) -> dict[str, str]:
    if persona is None:
        return {
            "language": "en",
            "timezone": "UTC",
            "approval_policy": "require_approval",
            "slots": "FREQ=WEEKLY;BYDAY=TU,TH;BYHOUR=6;BYMINUTE=30",
            "jitter_minutes": "0",
            "max_lateness_minutes": "360",
        }
    return {
        "name": persona.name,
        "bio": persona.bio,
        "voice": persona.voice,
        "audience": persona.audience,
        "language": persona.language,
        "timezone": persona.timezone,
        "approval_policy": persona.approval_policy,
        "topics": ", ".join(persona.topics),
        "hashtags": " ".join(persona.hashtags),
        "banned_phrases": "\n".join(persona.banned_phrases),
        "slots": "\n".join(persona.slots),
        "blocked_domains": "\n".join(persona.blocked_domains),
        "example_posts": "\n---\n".join(persona.example_posts),
        "jitter_minutes": str(persona.jitter_minutes),
        "max_lateness_minutes": str(persona.max_lateness_minutes),
    }


def _errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "name"
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "missing":
            message = "This field is required."
        errors.setdefault(field, message)
    return errors


def _slot_sentences(persona: Persona) -> list[str]:
    try:
        from digipersona.scheduling.describe import describe_slots

        return describe_slots(persona.slots, persona.timezone)
    except ImportError:
        return list(persona.slots)


@router.get("")
def list_page(request: Request, principal: WebPrincipal, session: SessionDep) -> Response:
    personas, total = service.list_personas(session, principal, limit=200)
    return render(
        request,
        "personas/list.html",
        {
            "active": "personas",
            "personas": personas,
            "total": total,
            "can_write": principal.can(Permission.write),
            "slot_sentences": {p.id: _slot_sentences(p) for p in personas},
        },
    )


@router.get("/new")
def new_page(request: Request, principal: WebPrincipal) -> Response:
    principal.require(Permission.write)
    return render(
        request,
        "personas/form.html",
        {"active": "personas", "form": _persona_form(None), "errors": {}, "persona": None},
    )


@router.post("/new")
async def create_submit(request: Request, principal: WebPrincipal, session: SessionDep) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    check_csrf(request, form.pop("csrf_token", None))
    principal.require(Permission.write)
    context: dict[str, Any] = {"active": "personas", "form": form, "errors": {}, "persona": None}
    try:
        data = schemas.PersonaCreate.model_validate(_form_to_data(form))
        persona = service.create(session, principal, data)
    except ValidationError as exc:
        context["errors"] = _errors(exc)
        return render(request, "personas/form.html", context, status_code=422)
    except DigipersonaError as exc:
        context["errors"] = {"name": exc.message}
        return render(request, "personas/form.html", context, status_code=exc.status_code)
    flash(request, f"Persona {persona.name} created.")
    return RedirectResponse(f"/personas/{persona.id}", status_code=303)


@router.get("/{persona_id}")
def detail_page(
    persona_id: uuid.UUID, request: Request, principal: WebPrincipal, session: SessionDep
) -> Response:
    from digipersona.autopilot import views as autopilot_views

    persona = service.get(session, principal, persona_id)
    return render(
        request,
        "personas/detail.html",
        {
            "active": "personas",
            "persona": persona,
            "slot_sentences": _slot_sentences(persona),
            "can_write": principal.can(Permission.write),
            "autopilot": autopilot_views.section(session, principal, persona),
        },
    )


@router.get("/{persona_id}/edit")
def edit_page(
    persona_id: uuid.UUID, request: Request, principal: WebPrincipal, session: SessionDep
) -> Response:
    principal.require(Permission.write)
    persona = service.get(session, principal, persona_id)
    form = _persona_form(persona)
    form["version"] = str(persona.version)
    return render(
        request,
        "personas/form.html",
        {"active": "personas", "form": form, "errors": {}, "persona": persona},
    )


@router.post("/{persona_id}/edit")
async def edit_submit(
    persona_id: uuid.UUID, request: Request, principal: WebPrincipal, session: SessionDep
) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    check_csrf(request, form.pop("csrf_token", None))
    principal.require(Permission.write)
    persona = service.get(session, principal, persona_id)
    context: dict[str, Any] = {"active": "personas", "form": form, "errors": {}, "persona": persona}
    data = _form_to_data(form)
    if form.get("version", "").isdigit():
        data["version"] = int(form["version"])
    try:
        update = schemas.PersonaUpdate.model_validate(data)
        service.update(session, principal, persona_id, update)
    except ValidationError as exc:
        context["errors"] = _errors(exc)
        return render(request, "personas/form.html", context, status_code=422)
    except DigipersonaError as exc:
        context["errors"] = {"name": exc.message}
        return render(request, "personas/form.html", context, status_code=exc.status_code)
    flash(request, "Persona saved.")
    return RedirectResponse(f"/personas/{persona_id}", status_code=303)


@router.post("/{persona_id}/delete")
async def delete_submit(
    persona_id: uuid.UUID, request: Request, principal: WebPrincipal, session: SessionDep
) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token", "")))
    principal.require(Permission.write)
    service.delete(session, principal, persona_id)
    flash(request, "Persona deleted.")
    return RedirectResponse("/personas", status_code=303)
