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
from digipersona.autopilot import views as autopilot_views
from digipersona.db import SessionDep
from digipersona.exceptions import DigipersonaError
from digipersona.kit.pagination import MAX_LIMIT
from digipersona.models import Persona
from digipersona.personas import schemas, service
from digipersona.personas.reply_templates import templates_of
from digipersona.web.forms import FormBody
from digipersona.web.templating import flash, render

router = APIRouter(prefix="/personas")

LIST_FIELDS = {"topics", "hashtags", "banned_phrases", "slots", "blocked_domains", "not_leads"}
REPLY_ROW = re.compile(r"^rt_(id|class|text)_(\d{1,3})$")
BLANK_REPLY_ROWS = 2


def _split_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _split_list(name: str, text: str) -> list[str]:
    if name in {"slots", "banned_phrases", "not_leads"}:
        return _split_lines(text)
    if name == "hashtags":
        return [t for t in re.split(r"[\s,]+", text) if t]
    return [t.strip() for t in re.split(r"[\n,]+", text) if t.strip()]


def _reply_rows(form: dict[str, str]) -> list[dict[str, str]]:
    """The reply template rows the user filled in, in form order; blank rows are dropped."""
    rows: dict[int, dict[str, str]] = {}
    for key, value in form.items():
        match = REPLY_ROW.match(key)
        if match:
            rows.setdefault(int(match.group(2)), {})[match.group(1)] = value
    out = []
    for index in sorted(rows):
        row = {k: rows[index].get(k, "") for k in ("id", "class", "text")}
        if any(v.strip() for v in row.values()):
            out.append(row)
    return out


def _renumber_replies(form: dict[str, str]) -> dict[str, str]:
    """The form with its reply rows numbered 0..n-1 (blank rows dropped), as they are validated."""
    out = {k: v for k, v in form.items() if not REPLY_ROW.match(k)}
    for index, row in enumerate(_reply_rows(form)):
        for key, value in row.items():
            out[f"rt_{key}_{index}"] = value
    return out


def reply_row_count(form: dict[str, str]) -> int:
    """How many reply template rows the form shows: the filled ones plus a few blank ones."""
    return len(_reply_rows(form)) + BLANK_REPLY_ROWS


def _form_to_data(form: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in (
        "name",
        "bio",
        "voice",
        "audience",
        "language",
        "timezone",
        "approval_policy",
        "ai_model",
        "colour",
        "offering",
    ):
        if key in form:
            data[key] = form[key]
    for key in LIST_FIELDS:
        if key in form:
            data[key] = _split_list(key, form[key])
    if "example_posts" in form:
        data["example_posts"] = [
            p.strip() for p in re.split(r"\n\s*---\s*\n", form["example_posts"]) if p.strip()
        ]
    if "alt_text_policy" in form:
        data["require_alt_text"] = form["alt_text_policy"] == "require"
    for key in ("jitter_minutes", "max_lateness_minutes"):
        if form.get(key, "").strip():
            data[key] = form[key].strip()
    if "auto_send_classes" in form or any(REPLY_ROW.match(k) for k in form):
        # The API's own schema (ReplyTemplates) validates these, so the rules are the same.
        data["reply_templates"] = {
            "templates": _reply_rows(form),
            "auto_send_classes": _split_list(
                "auto_send_classes", form.get("auto_send_classes", "")
            ),
        }
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
            "alt_text_policy": "warn",
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
        "alt_text_policy": "require" if persona.require_alt_text else "warn",
        "ai_model": persona.ai_model or "",
        "colour": persona.colour or "",
        "offering": persona.offering or "",
        "not_leads": "\n".join(persona.not_leads),
        **_reply_form(persona),
    }


def _reply_summary(persona: Persona) -> str:
    """The persona's reply templates in a sentence for the detail page."""
    templates, auto = templates_of(persona)
    if not templates:
        return "None"
    ids = ", ".join(t.id for t in templates)
    sent = (
        f"sent without approval: {', '.join(sorted(auto))}"
        if auto
        else "every reply needs approval"
    )
    return f"{len(templates)} ({ids}); {sent}"


def _reply_form(persona: Persona) -> dict[str, str]:
    templates, auto = templates_of(persona)
    out = {"auto_send_classes": ", ".join(sorted(auto))}
    for index, template in enumerate(templates):
        out[f"rt_id_{index}"] = template.id
        out[f"rt_class_{index}"] = template.klass
        out[f"rt_text_{index}"] = template.text
    return out


def _error_field(loc: tuple[int | str, ...]) -> str:
    """The form field a validation error belongs to (reply templates have one field per cell)."""
    if not loc:
        return "name"
    if loc[0] != "reply_templates":
        return str(loc[0])
    if len(loc) >= 4 and loc[1] == "templates" and isinstance(loc[2], int):
        column = {"template_class": "class"}.get(str(loc[3]), str(loc[3]))
        return f"rt_{column}_{loc[2]}"
    if len(loc) >= 2 and loc[1] == "auto_send_classes":
        return "auto_send_classes"
    return "reply_templates"


def _errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for err in exc.errors():
        field = _error_field(tuple(err["loc"]))
        message = str(err["msg"]).removeprefix("Value error, ")
        if field == "reply_templates" and message.startswith("auto_send_classes"):
            field = "auto_send_classes"
        if field.startswith("rt_id_") and err["type"] == "string_pattern_mismatch":
            message = (
                "Use up to 50 letters, digits, '_', '.' or '-', starting with a letter or "
                "digit, e.g. thanks."
            )
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


def _with_rows(context: dict[str, Any]) -> dict[str, Any]:
    context["reply_rows"] = range(reply_row_count(context["form"]))
    return context


def _render_form(request: Request, context: dict[str, Any], status_code: int = 200) -> Response:
    return render(request, "personas/form.html", _with_rows(context), status_code=status_code)


@router.get("")
def list_page(
    request: Request, principal: WebPrincipal, session: SessionDep, cursor: str | None = None
) -> Response:
    page = service.page_personas(session, principal, limit=MAX_LIMIT, cursor=cursor or None)
    personas = page.items
    return render(
        request,
        "personas/list.html",
        {
            "active": "personas",
            "personas": personas,
            "page": page,
            "total": page.total,
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
        _with_rows(
            {"active": "personas", "form": _persona_form(None), "errors": {}, "persona": None}
        ),
    )


@router.post("/new")
def create_submit(
    request: Request, principal: WebPrincipal, session: SessionDep, body: FormBody
) -> Response:
    form = {k: str(v) for k, v in body.items()}
    check_csrf(request, form.pop("csrf_token", None))
    principal.require(Permission.write)
    form = _renumber_replies(form)
    context: dict[str, Any] = {"active": "personas", "form": form, "errors": {}, "persona": None}
    try:
        data = schemas.PersonaCreate.model_validate(_form_to_data(form))
        persona = service.create(session, principal, data)
    except ValidationError as exc:
        context["errors"] = _errors(exc)
        return _render_form(request, context, status_code=422)
    except DigipersonaError as exc:
        context["errors"] = {"name": exc.message}
        return _render_form(request, context, status_code=exc.status_code)
    flash(request, f"Persona {persona.name} created.")
    return RedirectResponse(f"/personas/{persona.id}", status_code=303)


@router.get("/{persona_id}")
def detail_page(
    persona_id: uuid.UUID, request: Request, principal: WebPrincipal, session: SessionDep
) -> Response:
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
            "replies": _reply_summary(persona),
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
        _with_rows({"active": "personas", "form": form, "errors": {}, "persona": persona}),
    )


@router.post("/{persona_id}/edit")
def edit_submit(
    persona_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    body: FormBody,
) -> Response:
    form = {k: str(v) for k, v in body.items()}
    check_csrf(request, form.pop("csrf_token", None))
    principal.require(Permission.write)
    form = _renumber_replies(form)
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
        return _render_form(request, context, status_code=422)
    except DigipersonaError as exc:
        context["errors"] = {"name": exc.message}
        return _render_form(request, context, status_code=exc.status_code)
    flash(request, "Persona saved.")
    return RedirectResponse(f"/personas/{persona_id}", status_code=303)


@router.post("/{persona_id}/delete")
def delete_submit(
    persona_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    form: FormBody,
) -> Response:
    check_csrf(request, str(form.get("csrf_token", "")))
    principal.require(Permission.write)
    service.delete(session, principal, persona_id)
    flash(request, "Persona deleted.")
    return RedirectResponse("/personas", status_code=303)
