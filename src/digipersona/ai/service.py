"""A workspace's own AI provider, its usage and its monthly budget.

Without a settings row a workspace uses the installation default (``DIGIPERSONA_LLM_*``). With
one, its provider, base URL, model and key are used instead, and a persona's ``ai_model``
overrides the model. A workspace's base URL is an outbound URL like a feed's: it is checked when
saved and on every connection (``kit/outbound``), so a workspace cannot point the server at its
own private network. The key is Fernet-encrypted like platform tokens, never returned, never
logged (``kit/logging`` masks it) and never exported.

Every model call is recorded with its tokens and estimated cost (``prices``, USD per million
tokens per model). Before drafting, ``reserve`` atomically holds the most the next request can
cost, or refuses when this month's cost and the holds of requests under way plus that would pass
the workspace's monthly budget, and notifies the workspace once a month: drafting pauses before
the budget is exceeded, not after, even when requests run concurrently.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

import httpx
from sqlalchemy.orm import Session, sessionmaker

from digipersona import db
from digipersona.ai import schemas
from digipersona.ai.repository import AIRepository
from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.config import Settings
from digipersona.exceptions import Conflict, DigipersonaError, ValidationFailed
from digipersona.generation import Draft, LLMConfig, config_from_settings, get_provider
from digipersona.generation.base import Usage
from digipersona.generation.errors import AIConfigError
from digipersona.generation.registry import OLLAMA_BASE_URL, WORKSPACE_PROVIDERS
from digipersona.kit import outbound
from digipersona.kit.crypto import TokenCipher
from digipersona.kit.time import utcnow
from digipersona.models import AIReservation, AISettings, AIUsage, Persona
from digipersona.notifications import service as notifications

logger = logging.getLogger(__name__)

BUDGET_NOTIFICATION: Final = "ai.budget"
# The most one model call of a draft is assumed to use when the budget is checked: the prompt
# (persona, examples, brief) and the answer's bound, plus one shortening call.
ESTIMATED_TOKENS_IN: Final = 3000
ESTIMATED_TOKENS_OUT: Final = 2048
_MAX_MODELS: Final = 500
# How long a reservation counts when its calls are never settled (a process died mid-call):
# longer than any request may take (timeouts and retries are bounded well below it).
RESERVATION_TTL: Final = timedelta(minutes=30)


class AIBudgetExhausted(Conflict):
    """AI drafting is paused: the next request could pass the workspace's monthly budget."""

    title = "AI budget reached"
    type_slug = "ai-budget"


@dataclass(frozen=True)
class Resolved:
    """The AI configuration a workspace's (or persona's) drafts use, as plain data."""

    config: LLMConfig
    source: str
    workspace_id: uuid.UUID
    prices: dict[str, Any] = field(default_factory=dict)
    budget: float | None = None
    # This month's cost so far (read with the rest when there is a budget).
    spent: float = 0.0
    month: str = ""


def month_of(now: datetime) -> str:
    return now.strftime("%Y-%m")


def _cipher(settings: Settings) -> TokenCipher:
    return TokenCipher(settings.encryption_key_list())


# -- reading ----------------------------------------------------------------------------------
def resolve(
    session: Session,
    workspace_id: uuid.UUID,
    settings: Settings,
    persona: Persona | None = None,
) -> Resolved:
    """The configuration for drafts of this workspace (and persona), read in the caller's
    unit of work; the provider is asked after it is closed."""
    row = AIRepository(session).settings_of(workspace_id)
    override = (persona.ai_model or "").strip() or None if persona is not None else None
    if row is None:
        base = config_from_settings(settings)
        if override and base.provider != "template":
            base = _replace(base, model=override)
        return Resolved(config=base, source="installation", workspace_id=workspace_id)
    config = config_of_row(row, settings)
    if override and config.provider != "template":
        config = _replace(config, model=override)
    month = month_of(utcnow())
    budget = row.monthly_budget_usd
    spent = AIRepository(session).month_cost(workspace_id, month) if budget is not None else 0.0
    return Resolved(
        config=config,
        source="workspace",
        workspace_id=workspace_id,
        prices=dict(row.prices or {}),
        budget=budget,
        spent=spent,
        month=month,
    )


def uses_offline_writer(session: Session, workspace_id: uuid.UUID, settings: Settings) -> bool:
    """True when the workspace's drafts come from the offline template writer."""
    row = AIRepository(session).settings_of(workspace_id)
    provider = row.provider if row is not None else settings.llm_provider
    return provider == "template"


def _replace(config: LLMConfig, **changes: Any) -> LLMConfig:
    from dataclasses import replace

    return replace(config, **changes)


def config_of_row(row: AISettings, settings: Settings) -> LLMConfig:
    """The provider configuration a settings row stands for (the key decrypted)."""
    key = _cipher(settings).decrypt(row.api_key_enc) if row.api_key_enc else None
    return _config(row.provider, row.base_url, row.model, key, settings)


def _config(
    provider: str, base_url: str | None, model: str | None, key: str | None, settings: Settings
) -> LLMConfig:
    return LLMConfig(
        provider=WORKSPACE_PROVIDERS[provider],
        base_url=base_url or (OLLAMA_BASE_URL if provider == "ollama" else None),
        api_key=key,
        model=model,
        timeout_seconds=settings.llm_timeout_seconds,
        max_retries=int(getattr(settings, "llm_max_retries", 2)),
        draft_max_tokens=settings.llm_draft_max_tokens,
        allowed_networks=tuple(settings.outbound_networks),
    )


def view(session: Session, principal: Principal, settings: Settings) -> schemas.AISettingsOut:
    """What the workspace uses now (never the key)."""
    principal.require(Permission.admin)
    row = AIRepository(session).settings_of(principal.workspace_id)
    if row is None:
        base = config_from_settings(settings)
        return schemas.AISettingsOut(
            source="installation",
            provider=base.provider,
            base_url=base.base_url,
            model=base.model,
            has_api_key=bool(base.api_key),
            monthly_budget_usd=None,
            prices={},
        )
    return schemas.AISettingsOut(
        source="workspace",
        provider=row.provider,
        base_url=row.base_url,
        model=row.model,
        has_api_key=bool(row.api_key_enc),
        monthly_budget_usd=row.monthly_budget_usd,
        prices={k: schemas.ModelPrice(**v) for k, v in (row.prices or {}).items()},
    )


# -- saving -----------------------------------------------------------------------------------
def _clean_url(data: schemas.AISettingsIn, settings: Settings) -> str | None:
    url = (data.base_url or "").strip().rstrip("/") or None
    if data.provider == "openai_compatible" and url is None:
        raise ValidationFailed(
            "An OpenAI-compatible provider needs its base URL (for example "
            "http://192.0.2.10:8080/v1).",
            errors=[{"field": "base_url", "message": "required"}],
        )
    if data.provider == "template":
        return None
    if url is not None:
        outbound.ensure_allowed(url, settings, field="base_url")
    return url


def _check_model(data: schemas.AISettingsIn) -> str | None:
    model = (data.model or "").strip() or None
    if data.provider != "template" and model is None:
        raise ValidationFailed(
            "Choose the model this provider should use.",
            errors=[{"field": "model", "message": "required"}],
        )
    return model if data.provider != "template" else None


def save(
    session: Session, principal: Principal, settings: Settings, data: schemas.AISettingsIn
) -> schemas.AISettingsOut:
    """Store the workspace's AI settings (the key encrypted; an omitted key is kept)."""
    principal.require(Permission.admin)
    url, model = _clean_url(data, settings), _check_model(data)
    repo = AIRepository(session)
    row = repo.settings_of(principal.workspace_id)
    if row is None:
        row = AISettings(workspace_id=principal.workspace_id, provider=data.provider, prices={})
        session.add(row)
    row.provider, row.base_url, row.model = data.provider, url, model
    key = (data.api_key or "").strip()
    if key:
        row.api_key_enc = _cipher(settings).encrypt(key)
    elif data.clear_api_key or data.provider in ("template", "ollama"):
        row.api_key_enc = None
    if data.provider == "anthropic" and not row.api_key_enc:
        raise ValidationFailed(
            "Anthropic needs an API key.", errors=[{"field": "api_key", "message": "required"}]
        )
    if data.provider == "openai" and url is None and not row.api_key_enc:
        raise ValidationFailed(
            "OpenAI needs an API key.", errors=[{"field": "api_key", "message": "required"}]
        )
    row.monthly_budget_usd = data.monthly_budget_usd
    row.prices = {k: v.model_dump() for k, v in data.prices.items()}
    session.flush()
    logger.info("AI settings saved: provider %s, model %s", row.provider, row.model)
    return view(session, principal, settings)


def reset(session: Session, principal: Principal) -> None:
    """Drop the workspace's own settings: the installation default applies again."""
    principal.require(Permission.admin)
    repo = AIRepository(session)
    row = repo.settings_of(principal.workspace_id)
    if row is not None:
        repo.delete(row)


# -- trying the provider ----------------------------------------------------------------------
def _candidate(
    factory: sessionmaker[Session],
    principal: Principal,
    settings: Settings,
    data: schemas.AISettingsIn | None,
) -> LLMConfig:
    """The configuration to try: the given (unsaved) settings, else the saved ones. A key left
    empty in unsaved settings falls back to the saved key."""
    principal.require(Permission.admin)
    with db.session_scope(factory) as session:
        row = AIRepository(session).settings_of(principal.workspace_id)
        saved_key = _cipher(settings).decrypt(row.api_key_enc) if row and row.api_key_enc else None
        if data is None:
            return resolve(session, principal.workspace_id, settings).config
    url, model = _clean_url(data, settings), _check_model(data)
    key = (data.api_key or "").strip() or (None if data.clear_api_key else saved_key)
    return _config(data.provider, url, model, key, settings)


def try_settings(
    factory: sessionmaker[Session],
    principal: Principal,
    settings: Settings,
    data: schemas.AISettingsIn | None = None,
) -> schemas.AITestOut:
    """One tiny call; the model's answer or the provider's error (no transaction open)."""
    config = _candidate(factory, principal, settings, data)
    try:
        provider = get_provider(config)
    except AIConfigError as exc:
        return schemas.AITestOut(
            ok=False, provider=config.provider, model=config.model, error=exc.message
        )
    try:
        answer = provider.ping()
    except DigipersonaError as exc:
        return schemas.AITestOut(
            ok=False, provider=config.provider, model=config.model, error=exc.message
        )
    finally:
        provider.close()
    return schemas.AITestOut(ok=True, provider=config.provider, model=config.model, answer=answer)


def models(
    factory: sessionmaker[Session],
    principal: Principal,
    settings: Settings,
    data: schemas.AISettingsIn | None = None,
) -> list[str]:
    """The models the provider lists: Ollama's ``/api/tags``, else ``/models`` of an
    OpenAI-compatible server (and OpenAI); [] for the offline writer and Anthropic."""
    provider_choice = data.provider if data is not None else None
    if data is not None and data.model is None and data.provider != "template":
        data = data.model_copy(update={"model": "-"})  # listing needs no model
    config = _candidate(factory, principal, settings, data)
    if config.provider != "openai":
        return []
    if provider_choice == "ollama" or (config.base_url or "").rstrip("/").endswith(":11434/v1"):
        found = _ollama_tags(config)
        if found:
            return found
    provider = get_provider(_with_model(config))
    try:
        listing = getattr(provider, "list_models", None)
        return list(listing())[:_MAX_MODELS] if callable(listing) else []
    finally:
        provider.close()


def _with_model(config: LLMConfig) -> LLMConfig:
    return config if config.model else _replace(config, model="-")


def _ollama_tags(config: LLMConfig) -> list[str]:
    """Model names from Ollama's native ``/api/tags`` (the base URL without its ``/v1``)."""
    root = (config.base_url or OLLAMA_BASE_URL).rstrip("/").removesuffix("/v1")
    client = outbound.GuardedClient(config.allowed_networks or (), timeout=10.0)
    try:
        response = client.get(f"{root}/api/tags")
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError):
        return []
    finally:
        client.close()
    entries = body.get("models") if isinstance(body, dict) else None
    names = [str(m.get("name")) for m in entries or [] if isinstance(m, dict) and m.get("name")]
    return sorted(set(names))[:_MAX_MODELS]


# -- usage and budget -------------------------------------------------------------------------
def cost_of(prices: dict[str, Any], model: str, tokens_in: int, tokens_out: int) -> float:
    """Estimated USD for a call; 0 for a model without a configured price."""
    price = prices.get(model) or {}
    return (
        float(price.get("input", 0)) * tokens_in + float(price.get("output", 0)) * tokens_out
    ) / 1_000_000


@dataclass(frozen=True)
class Reservation:
    """Budget held for the model calls of one request (``id`` None: nothing to hold, the
    workspace has no budget or drafts offline)."""

    id: uuid.UUID | None = None
    cost_usd: float = 0.0


NO_RESERVATION: Final = Reservation()


def reserve(
    factory: sessionmaker[Session],
    resolved: Resolved,
    calls: int,
    *,
    now: datetime | None = None,
) -> Reservation:
    """Hold the most ``calls`` model calls may cost against this month's budget, or refuse
    (409) when that could pass it, notifying the workspace the first time in the month.

    Atomic: the workspace's settings row is locked (``FOR UPDATE`` on PostgreSQL; SQLite's
    ``write_scope`` holds the one write lock) while this month's usage and live reservations are
    summed and the new reservation written, so two concurrent requests cannot both pass on the
    same remaining budget. Run before the provider is asked and with no other unit of work
    open; then ``settle`` in the unit of work that records the usage, or ``release`` on failure.
    """
    if resolved.budget is None or resolved.config.provider == "template":
        return NO_RESERVATION
    now = now or utcnow()
    month = month_of(now)
    model = resolved.config.model or ""
    refusal: tuple[str, float, float] | None = None
    with db.write_scope(factory) as session:
        repo = AIRepository(session)
        row = repo.lock_settings(resolved.workspace_id)
        if row is None or row.monthly_budget_usd is None:
            return NO_RESERVATION  # the budget was removed meanwhile
        prices = dict(row.prices or {})
        estimate = calls * cost_of(prices, model, ESTIMATED_TOKENS_IN, ESTIMATED_TOKENS_OUT)
        budget = float(row.monthly_budget_usd)
        spent = repo.month_cost(resolved.workspace_id, month, now=now)
        if spent + estimate > budget:
            refusal = (_refusal_message(spent, budget, estimate), spent, budget)
            _notify_budget(session, row, month, refusal[0])
        else:
            held = AIReservation(
                workspace_id=resolved.workspace_id,
                month=month,
                cost_usd=estimate,
                expires_at=now + RESERVATION_TTL,
            )
            repo.add(held)
            return Reservation(id=held.id, cost_usd=estimate)
    message, spent, budget = refusal
    raise AIBudgetExhausted(message, extra={"spent_usd": round(spent, 4), "budget_usd": budget})


def settle(session: Session, reservation: Reservation) -> None:
    """Drop the hold in the unit of work that records the calls' real usage."""
    if reservation.id is not None:
        AIRepository(session).drop_reservation(reservation.id)


def release(factory: sessionmaker[Session], reservation: Reservation) -> None:
    """Drop the hold of calls that failed (nothing to record)."""
    if reservation.id is None:
        return
    with db.write_scope(factory) as session:
        settle(session, reservation)


def _refusal_message(spent: float, budget: float, estimate: float) -> str:
    return (
        f"AI drafting is paused: this month's AI cost is ${spent:.2f} of the "
        f"${budget:.2f} budget, and this request could cost up to ${estimate:.2f} more. "
        "Raise the budget in Settings -> AI, or wait for next month."
    )


def _notify_budget(session: Session, row: AISettings, month: str, message: str) -> None:
    """One ``ai.budget`` notification a month (the settings row is locked by the caller)."""
    if row.budget_warned_month == month:
        return
    row.budget_warned_month = month
    notifications.notify(
        session,
        workspace_id=row.workspace_id,
        kind=BUDGET_NOTIFICATION,
        title="AI drafting paused: monthly AI budget reached",
        body=message,
    )


def record(
    session: Session,
    workspace_id: uuid.UUID,
    persona_id: uuid.UUID | None,
    *,
    purpose: str,
    provider: str,
    model: str,
    usage: Sequence[Usage],
    now: datetime | None = None,
) -> None:
    """Record model calls (one row each) in the caller's unit of work."""
    if provider == "template" or not usage:
        return
    repo = AIRepository(session)
    row = repo.settings_of(workspace_id)
    prices = dict(row.prices or {}) if row is not None else {}
    month = month_of(now or utcnow())
    for call in usage:
        repo.add(
            AIUsage(
                workspace_id=workspace_id,
                persona_id=persona_id,
                month=month,
                purpose=purpose,
                provider=provider,
                model=model[:200],
                tokens_in=call.tokens_in,
                tokens_out=call.tokens_out,
                cost_usd=cost_of(prices, model, call.tokens_in, call.tokens_out),
            )
        )


def record_drafts(
    session: Session, workspace_id: uuid.UUID, persona_id: uuid.UUID, drafts: Sequence[Draft]
) -> None:
    """Record the calls that made ``drafts`` (each draft carries its own usage)."""
    if not drafts:
        return
    first = drafts[0]
    record(
        session,
        workspace_id,
        persona_id,
        purpose="draft",
        provider=first.provider,
        model=first.model,
        usage=[u for d in drafts for u in d.usage],
    )


def usage(
    session: Session, principal: Principal, *, now: datetime | None = None
) -> schemas.UsageOut:
    """This month's AI calls, tokens and estimated cost per persona and model."""
    principal.require(Permission.read)
    month = month_of(now or utcnow())
    repo = AIRepository(session)
    rows = [
        schemas.UsageRow(
            month=month,
            persona_id=str(pid) if pid else None,
            persona_name=name,
            model=model,
            calls=int(calls),
            tokens_in=int(t_in or 0),
            tokens_out=int(t_out or 0),
            cost_usd=round(float(cost or 0), 6),
        )
        for pid, name, model, calls, t_in, t_out, cost in repo.usage_rows(
            principal.workspace_id, month
        )
    ]
    row = repo.settings_of(principal.workspace_id)
    return schemas.UsageOut(
        month=month,
        cost_usd=round(sum(r.cost_usd for r in rows), 6),
        monthly_budget_usd=row.monthly_budget_usd if row else None,
        rows=rows,
    )
