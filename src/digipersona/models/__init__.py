"""Every SQLAlchemy model, one file per table, re-exported here."""

from digipersona.models.ab_test import AbTest
from digipersona.models.ai_reservation import AIReservation
from digipersona.models.ai_settings import AISettings
from digipersona.models.ai_usage import AIUsage
from digipersona.models.analytics_day import AnalyticsDay
from digipersona.models.api_token import ApiToken
from digipersona.models.audit_event import AuditEvent
from digipersona.models.autopilot_feed_item import SeenFeedItem
from digipersona.models.autopilot_rule import Destination, GenerationRule, RuleMode
from digipersona.models.autopilot_run import AutopilotRun, RunStatus
from digipersona.models.autopilot_trigger import Trigger, TriggerKind
from digipersona.models.base import Base
from digipersona.models.connection import Connection, ConnectionState
from digipersona.models.heartbeat import Heartbeat
from digipersona.models.interaction import Interaction, InteractionKind, InteractionStatus
from digipersona.models.interaction_poll import InteractionPoll
from digipersona.models.invitation import Invitation
from digipersona.models.lead_model import WorkspaceLeadModel
from digipersona.models.media import Media
from digipersona.models.membership import Membership, Role
from digipersona.models.metric_snapshot import MetricSnapshot
from digipersona.models.metrics_schedule import MetricsSchedule, MetricsStop
from digipersona.models.notification import Notification
from digipersona.models.notification_delivery import NotificationDelivery
from digipersona.models.notification_preference import NotificationPreference
from digipersona.models.notification_webhook import NotificationWebhook
from digipersona.models.oauth_state import OAuthState
from digipersona.models.persona import Persona
from digipersona.models.post import Post, PostStatus
from digipersona.models.publication import ACTIVE_STATES, Publication, PublicationState
from digipersona.models.push_subscription import PushSubscription
from digipersona.models.quota_counter import QuotaCounter
from digipersona.models.refresh_token import RefreshToken
from digipersona.models.review_link import ReviewLink
from digipersona.models.user import User
from digipersona.models.variant import Variant
from digipersona.models.workspace import Workspace

__all__ = [
    "ACTIVE_STATES",
    "AIReservation",
    "AISettings",
    "AIUsage",
    "AbTest",
    "AnalyticsDay",
    "ApiToken",
    "AuditEvent",
    "AutopilotRun",
    "Base",
    "Connection",
    "ConnectionState",
    "Destination",
    "GenerationRule",
    "Heartbeat",
    "Interaction",
    "InteractionKind",
    "InteractionPoll",
    "InteractionStatus",
    "Invitation",
    "Media",
    "Membership",
    "MetricSnapshot",
    "MetricsSchedule",
    "MetricsStop",
    "Notification",
    "NotificationDelivery",
    "NotificationPreference",
    "NotificationWebhook",
    "OAuthState",
    "Persona",
    "Post",
    "PostStatus",
    "Publication",
    "PublicationState",
    "PushSubscription",
    "QuotaCounter",
    "RefreshToken",
    "ReviewLink",
    "Role",
    "RuleMode",
    "RunStatus",
    "SeenFeedItem",
    "Trigger",
    "TriggerKind",
    "User",
    "Variant",
    "Workspace",
    "WorkspaceLeadModel",
]
