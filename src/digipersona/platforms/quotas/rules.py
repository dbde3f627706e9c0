"""Quota rules: each platform's limits (from settings) and their fixed, aligned windows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from digipersona.config import Settings


@dataclass(frozen=True)
class QuotaRule:
    name: str
    scope: str  # "connection" or "app"
    window_seconds: int
    limit: int

    def key(self, platform: str, connection_id: uuid.UUID) -> str:
        owner = str(connection_id) if self.scope == "connection" else "app"
        return f"{platform}:{self.name}:{owner}"

    def window_start(self, now: datetime) -> datetime:
        epoch = int(now.timestamp())
        return datetime.fromtimestamp(epoch - epoch % self.window_seconds, UTC)

    def window_end(self, now: datetime) -> datetime:
        return self.window_start(now) + timedelta(seconds=self.window_seconds)


DAY = 86400


def rules_for(platform: str, settings: Settings) -> list[QuotaRule]:
    """The quota rules of a platform, from settings (0 disables one)."""
    table: dict[str, list[QuotaRule]] = {
        "linkedin": [
            QuotaRule(
                "member_posts", "connection", DAY, settings.quota_linkedin_member_posts_per_day
            ),
            QuotaRule("app_posts", "app", DAY, settings.quota_linkedin_app_posts_per_day),
            QuotaRule("app_requests", "app", DAY, settings.quota_linkedin_app_requests_per_day),
        ],
        "x": [
            QuotaRule("user_posts", "connection", 900, settings.quota_x_user_posts_per_15min),
            QuotaRule("app_posts", "app", DAY, settings.quota_x_app_posts_per_day),
        ],
        "bluesky": [
            QuotaRule(
                "account_posts", "connection", 3600, settings.quota_bluesky_account_posts_per_hour
            )
        ],
        "webhook": [
            QuotaRule("posts", "connection", 60, settings.quota_webhook_posts_per_minute),
        ],
    }
    return [rule for rule in table.get(platform, []) if rule.limit > 0]


def rule_named(platform: str, name: str, settings: Settings) -> QuotaRule | None:
    """One rule of a platform, ``None`` when it is disabled (0) or unknown."""
    return next((r for r in rules_for(platform, settings) if r.name == name), None)


class QuotaExceeded(Exception):
    """Consuming would exceed ``rule``; try again at ``retry_at``."""

    def __init__(self, rule: QuotaRule, retry_at: datetime) -> None:
        super().__init__(f"{rule.name} quota reached until {retry_at.isoformat()}")
        self.rule = rule
        self.retry_at = retry_at


def linkedin_read_quota(settings: Settings, platform: str) -> QuotaRule | None:
    """The app request quota LinkedIn reads (metrics, comments) count against; ``None`` when
    the platform is not LinkedIn or the quota is off."""
    if platform != "linkedin":
        return None
    return rule_named("linkedin", "app_requests", settings)


def linkedin_reads_spent(rule: QuotaRule, now: datetime, *, reading: str, shared: str) -> str:
    """Why LinkedIn ``reading`` waits: the app's daily requests (shared with ``shared``) are
    used up until the window ends."""
    return (
        "LinkedIn's daily request budget for this app is used up "
        f"(DIGIPERSONA_QUOTA_LINKEDIN_APP_REQUESTS_PER_DAY={rule.limit}, shared with {shared}); "
        f"{reading} are read again after {rule.window_end(now):%Y-%m-%d %H:%M} UTC."
    )
