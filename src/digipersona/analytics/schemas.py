"""API shapes of the analytics domain. A ``None`` figure means "not provided by the platform"."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from digipersona.kit.pagination import NEXT_CURSOR_DESCRIPTION
from digipersona.kit.schemas import Strict


class Figures(BaseModel):
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None
    impressions: int | None = None
    engagements: int | None = None


class SnapshotOut(Figures):
    taken_at: datetime
    stage: int


class SyncStateOut(BaseModel):
    # scheduled, pending (not picked up yet), finished, deleted, unsupported, failed,
    # no_external_id
    state: str
    next_sync_at: datetime | None
    note: str | None
    last_error: str | None


class PublicationAnalyticsOut(BaseModel):
    publication_id: uuid.UUID
    platform: str
    state: str
    external_url: str | None
    published_at: datetime | None
    sync: SyncStateOut
    provided_fields: list[str]
    platform_note: str
    latest: SnapshotOut | None
    snapshots: list[SnapshotOut]


class ContentAnalyticsOut(BaseModel):
    post_id: uuid.UUID
    publications: list[PublicationAnalyticsOut]
    totals: Figures


class TrendPoint(BaseModel):
    date: date
    posts: int
    engagements: int | None
    impressions: int | None


class WeekdayBucket(BaseModel):
    weekday: str
    index: int
    posts: int
    median_engagement: float | None


class HourBucket(BaseModel):
    hour: int
    posts: int
    median_engagement: float | None


class Cell(BaseModel):
    weekday: str
    index: int
    hour: int
    posts: int
    median_engagement: float


class BestTimesOut(BaseModel):
    measured_posts: int
    enough_data: bool
    weekdays: list[WeekdayBucket]
    hours: list[HourBucket]
    cells: list[Cell]
    best_weekday: str | None
    best_hour: int | None
    note: str | None


class TopPost(BaseModel):
    post_id: uuid.UUID
    publication_id: uuid.UUID
    platform: str
    published_at: datetime | None
    local_time: str
    excerpt: str
    engagements: int | None
    impressions: int | None
    external_url: str | None


class PlatformCapabilities(BaseModel):
    platform: str
    display_name: str = ""
    supports_metrics: bool
    fields: list[str]
    note: str


class WorkspaceAnalyticsOut(BaseModel):
    persona_id: uuid.UUID | None
    platform: str | None
    start: datetime | None
    end: datetime | None
    timezone: str | None
    posts: int
    measured_posts: int
    totals: Figures
    trend: list[TrendPoint]
    best_times: BestTimesOut
    top_posts: list[TopPost]
    platforms: list[PlatformCapabilities]


class BandLimits(BaseModel):
    low_up_to: float
    high_above: float


class PlatformPrediction(BaseModel):
    platform: str
    band: str  # low | medium | high, relative to the persona's history on that platform
    probabilities: dict[str, float]
    reasons: list[str]
    band_limits: BandLimits


class PredictionOut(BaseModel):
    post_id: uuid.UUID
    at: datetime
    local_time: str
    measured_posts: int
    persona_measured_posts: int
    status: str  # ok | insufficient_history
    message: str | None
    predictions: list[PlatformPrediction]


class SlotBasis(BaseModel):
    posts: int
    median_ratio: float
    basis: str


class SlotSuggestion(BaseModel):
    rrule: str
    weekday: str
    hour: int
    posts: int
    median_ratio: float  # median engagement / the persona's typical engagement on that platform
    evidence: str


class SlotSuggestionsOut(BaseModel):
    persona_id: uuid.UUID
    timezone: str
    slots: list[str]
    measured_posts: int
    current: SlotBasis | None
    suggestions: list[SlotSuggestion]
    note: str | None


class AbTestCreate(Strict):
    post_a_id: uuid.UUID
    post_b_id: uuid.UUID
    name: str = Field(default="", max_length=200)
    # Put A at its next free slot and B one week later at the same local weekday and time.
    schedule: bool = False


class VariantOut(BaseModel):
    post_id: uuid.UUID
    engagements: int | None
    impressions: int | None
    publications: int
    measured: int


class Estimate(BaseModel):
    mean: float
    ci95: list[float]


class Lift(BaseModel):
    median: float | None
    ci95: list[float] | None


class AbResult(BaseModel):
    method: str | None
    verdict: str  # waiting | A | B | inconclusive
    message: str
    p_b_better: float | None = None
    a: Estimate | None = None
    b: Estimate | None = None
    lift: Lift | None = None


class AbTestOut(BaseModel):
    id: uuid.UUID
    name: str
    persona_id: uuid.UUID
    created_at: datetime
    variants: dict[str, VariantOut]
    result: AbResult


class AbTestList(BaseModel):
    items: list[AbTestOut]
    next_cursor: str | None = Field(description=NEXT_CURSOR_DESCRIPTION)
