"""Settings -> AI: the workspace's provider, a test call, the model list and the usage."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from digipersona import db
from digipersona.ai import schemas, service
from digipersona.auth.dependencies import UnboundWebPrincipal, WebPrincipal
from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.db import FactoryDep, SessionDep
from digipersona.exceptions import DigipersonaError
from digipersona.web.forms import CheckedForm, Form
from digipersona.web.templating import flash, render

router = APIRouter(prefix="/settings/ai")

PROVIDER_LABELS = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "ollama": "Ollama (local)",
    "openai_compatible": "Any OpenAI-compatible server (URL)",
    "template": "Offline writer (templates, no model)",
}


def _settings_in(data: Form) -> schemas.AISettingsIn:
    """The form as settings; a budget left empty means none."""
    budget = data.get("monthly_budget_usd", "").strip()
    prices: dict[str, dict[str, float]] = {}
    for line in data.get("prices", "").splitlines():
        parts = line.replace(",", " ").split()
        if len(parts) == 3:
            prices[parts[0]] = {"input": float(parts[1]), "output": float(parts[2])}
    return schemas.AISettingsIn.model_validate(
        {
            "provider": data.get("provider", "template"),
            "base_url": data.get("base_url", "").strip() or None,
            "model": data.get("model", "").strip() or None,
            "api_key": data.get("api_key", "").strip() or None,
            "clear_api_key": data.get("clear_api_key") == "1",
            "monthly_budget_usd": float(budget) if budget else None,
            "prices": prices,
        }
    )


def _form_of(current: schemas.AISettingsOut) -> dict[str, Any]:
    return {
        "provider": current.provider,
        "base_url": current.base_url or "",
        "model": current.model or "",
        "monthly_budget_usd": ""
        if current.monthly_budget_usd is None
        else f"{current.monthly_budget_usd:g}",
        "prices": "\n".join(
            f"{name} {p.input:g} {p.output:g}" for name, p in current.prices.items()
        ),
    }


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    form: dict[str, Any] | None = None,
    models: list[str] | None = None,
    result: schemas.AITestOut | None = None,
) -> Response:
    settings = request.app.state.settings
    current = service.view(session, principal, settings)
    return render(
        request,
        "ai/settings.html",
        {
            "active": "settings",
            "current": current,
            "form": form or _form_of(current),
            "providers": PROVIDER_LABELS,
            "models": models or [],
            "result": result,
            "usage": service.usage(session, principal),
        },
    )


@router.get("")
def page(request: Request, principal: WebPrincipal, session: SessionDep) -> Response:
    principal.require(Permission.admin)
    return _page(request, session, principal)


@router.post("")
def save(
    request: Request, principal: WebPrincipal, session: SessionDep, data: CheckedForm
) -> Response:
    principal.require(Permission.admin)
    try:
        service.save(session, principal, request.app.state.settings, _settings_in(data))
    except (DigipersonaError, ValidationError, ValueError) as exc:
        session.rollback()
        flash(request, _message(exc), "error")
        return _page(request, session, principal, form=_kept(data))
    flash(request, "AI settings saved.")
    return RedirectResponse("/settings/ai", status_code=303)


@router.post("/reset")
def reset(
    request: Request, principal: WebPrincipal, session: SessionDep, data: CheckedForm
) -> Response:
    service.reset(session, principal)
    flash(request, "This workspace uses the installation's AI settings again.")
    return RedirectResponse("/settings/ai", status_code=303)


def _unbound_page(
    request: Request, factory: sessionmaker[Session], principal: Principal, **extra: Any
) -> Response:
    with db.session_scope(factory) as session:
        return _page(request, session, principal, **extra)


@router.post("/test")
def test(
    request: Request, principal: UnboundWebPrincipal, factory: FactoryDep, data: CheckedForm
) -> Response:
    """Try the form's settings (not saved) with one tiny call; no transaction meanwhile."""
    principal.require(Permission.admin)
    try:
        result = service.try_settings(
            factory, principal, request.app.state.settings, _settings_in(data)
        )
    except (DigipersonaError, ValidationError, ValueError) as exc:
        result = schemas.AITestOut(
            ok=False, provider=data.get("provider", ""), model=None, error=_message(exc)
        )
    return _unbound_page(request, factory, principal, form=_kept(data), result=result)


@router.post("/models")
def models(
    request: Request, principal: UnboundWebPrincipal, factory: FactoryDep, data: CheckedForm
) -> Response:
    """Read the provider's model list into the form's model choices."""
    principal.require(Permission.admin)
    found: list[str] = []
    try:
        found = service.models(factory, principal, request.app.state.settings, _settings_in(data))
        if not found:
            flash(request, "This provider lists no models here: type the model's name.", "error")
    except (DigipersonaError, ValidationError, ValueError) as exc:
        flash(request, _message(exc), "error")
    return _unbound_page(request, factory, principal, form=_kept(data), models=found)


def _kept(data: Form) -> dict[str, Any]:
    """The form as typed, without the key (a key is never sent back to the browser)."""
    return {k: v for k, v in data.fields().items() if k != "api_key"}


def _message(exc: Exception) -> str:
    if isinstance(exc, DigipersonaError):
        return exc.message
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"Check the form: {where}: {first.get('msg', 'invalid')}."
    return "Check the form: the budget and prices must be numbers."
