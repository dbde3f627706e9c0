"""The workspace's AI settings, its test call, the provider's model list and the usage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from digipersona.ai import schemas, service
from digipersona.auth.dependencies import Admin, Reader, SettingsDep, get_principal_unbound
from digipersona.auth.principal import Principal
from digipersona.db import FactoryDep, SessionDep
from digipersona.generation.errors import AIProviderError

router = APIRouter(prefix="/api/v1/workspace/ai", tags=["ai"])

# The test call and the model list wait on the provider: no request session is held meanwhile.
UnboundPrincipal = Annotated[Principal, Depends(get_principal_unbound)]


@router.get("", response_model=schemas.AISettingsOut)
def get_settings(
    principal: Admin, session: SessionDep, settings: SettingsDep
) -> schemas.AISettingsOut:
    """The AI provider the workspace uses (its own or the installation default); never the key."""
    return service.view(session, principal, settings)


@router.put("", response_model=schemas.AISettingsOut)
def save_settings(
    body: schemas.AISettingsIn, principal: Admin, session: SessionDep, settings: SettingsDep
) -> schemas.AISettingsOut:
    """Set the workspace's own AI provider (admins). The key is stored encrypted."""
    return service.save(session, principal, settings, body)


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
def reset_settings(principal: Admin, session: SessionDep) -> None:
    """Go back to the installation default."""
    service.reset(session, principal)


@router.post("/test", response_model=schemas.AITestOut)
def test_settings(
    body: schemas.AITestIn, principal: UnboundPrincipal, factory: FactoryDep, settings: SettingsDep
) -> schemas.AITestOut:
    """One tiny call to the provider (the given settings, else the saved ones): its answer or
    its error."""
    return service.try_settings(factory, principal, settings, body.settings)


@router.post("/models", response_model=schemas.AIModelsOut)
def list_models(
    body: schemas.AITestIn, principal: UnboundPrincipal, factory: FactoryDep, settings: SettingsDep
) -> schemas.AIModelsOut:
    """The models the provider lists (Ollama's tags, an OpenAI-compatible ``/models``). Like the
    test call, a provider that cannot be reached is an answer (``error``), not a failure."""
    try:
        return schemas.AIModelsOut(
            models=service.models(factory, principal, settings, body.settings)
        )
    except AIProviderError as exc:
        return schemas.AIModelsOut(models=[], error=exc.message)


@router.get("/usage", response_model=schemas.UsageOut)
def usage(principal: Reader, session: SessionDep) -> schemas.UsageOut:
    """This month's AI calls, tokens and estimated cost per persona and model."""
    return service.usage(session, principal)
