from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from digipersona.kit.schemas import Strict

ProviderChoice = Literal["openai", "anthropic", "ollama", "openai_compatible", "template"]


class ModelPrice(Strict):
    """USD per million tokens."""

    input: float = Field(ge=0, le=10_000)
    output: float = Field(ge=0, le=10_000)


class AISettingsIn(Strict):
    """A workspace's AI provider. ``api_key`` is kept when omitted; ``clear_api_key`` removes it."""

    provider: ProviderChoice
    base_url: str | None = Field(default=None, max_length=2048)
    model: str | None = Field(default=None, max_length=200)
    api_key: str | None = Field(default=None, max_length=500)
    clear_api_key: bool = False
    monthly_budget_usd: float | None = Field(default=None, ge=0, le=1_000_000)
    prices: dict[str, ModelPrice] = Field(default_factory=dict, max_length=50)


class AISettingsOut(BaseModel):
    """What the workspace uses now; the key itself is never returned."""

    source: Literal["workspace", "installation"]
    provider: str
    base_url: str | None
    model: str | None
    has_api_key: bool
    monthly_budget_usd: float | None
    prices: dict[str, ModelPrice]


class AITestIn(Strict):
    """Settings to test before saving; without them the saved settings are tested."""

    settings: AISettingsIn | None = None


class AITestOut(BaseModel):
    ok: bool
    provider: str
    model: str | None
    answer: str | None = None
    error: str | None = None


class AIModelsOut(BaseModel):
    models: list[str]
    error: str | None = Field(
        default=None, description="Why the provider could not be asked (its own error), if so"
    )


class UsageRow(BaseModel):
    month: str
    persona_id: str | None
    persona_name: str | None
    model: str
    calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: float


class UsageOut(BaseModel):
    month: str
    cost_usd: float
    monthly_budget_usd: float | None
    rows: list[UsageRow]
