"""Which member hears about which event, on which channel: the matrix and its defaults.

Each member of a workspace has one matrix (event kind x channel, on/off). What they never set
follows their role: approval requests go to those who can approve, publishing failures to those
who publish, connection trouble to those who manage connections, leads to those who can answer,
the AI budget pause to those who can raise the budget.
Approval requests are never sent to a member who cannot approve (the cell is unavailable).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from digipersona.auth.permissions import ROLE_PERMISSIONS, Permission
from digipersona.exceptions import ValidationFailed
from digipersona.models import Role

KINDS: dict[str, str] = {
    "approval.requested": "Approval requested",
    "review.decided": "Decision through a review link",
    "publication.failed": "Publication failed",
    "publication.missed": "Publication missed",
    "connection.expiring": "Connection expiring",
    "connection.paused": "Connection paused or needs reconnecting",
    "interaction.lead": "High lead score interaction",
    "ai.budget": "AI drafting paused by the monthly AI budget",
}
CHANNELS: dict[str, str] = {
    "in_app": "In-app",
    "email": "Email",
    "webhook": "Webhook",
    "push": "Web Push",
}
# Event kinds that callers emit under another name but users choose together.
ALIASES = {"connection.expired": "connection.paused"}

# Who gets a kind by default (by permission), and who may get it at all (None: any member).
_DEFAULT_FOR: dict[str, Permission] = {
    "approval.requested": Permission.approve,
    "review.decided": Permission.drafts,
    "publication.failed": Permission.publish,
    "publication.missed": Permission.publish,
    "connection.expiring": Permission.connections,
    "connection.paused": Permission.connections,
    "interaction.lead": Permission.drafts,
    # Those who can raise the budget (Settings -> AI is for admins).
    "ai.budget": Permission.admin,
}
_REQUIRED_FOR: dict[str, Permission] = {"approval.requested": Permission.approve}
# Channels on by default for those who get the kind; the webhook by default for admins only.
_DEFAULT_CHANNELS: dict[str, frozenset[str]] = {
    "approval.requested": frozenset({"in_app", "email", "push"}),
    "review.decided": frozenset({"in_app", "email", "push"}),
    "publication.failed": frozenset({"in_app", "email", "push"}),
    "publication.missed": frozenset({"in_app", "email", "push"}),
    "connection.expiring": frozenset({"in_app", "email"}),
    "connection.paused": frozenset({"in_app", "email", "push"}),
    "interaction.lead": frozenset({"in_app", "push"}),
    "ai.budget": frozenset({"in_app", "email"}),
}

Matrix = dict[str, dict[str, bool]]


def preference_kind(kind: str) -> str | None:
    """The matrix row an emitted event kind belongs to (None: not a preference kind)."""
    kind = ALIASES.get(kind, kind)
    return kind if kind in KINDS else None


def available(kind: str, role: Role) -> bool:
    """Whether a member with this role may receive this kind at all."""
    needed = _REQUIRED_FOR.get(kind)
    return needed is None or needed in ROLE_PERMISSIONS[role]


def defaults(role: Role) -> Matrix:
    """The matrix of a member who changed nothing."""
    granted = ROLE_PERMISSIONS[role]
    matrix: Matrix = {}
    for kind in KINDS:
        wanted = _DEFAULT_FOR[kind] in granted
        on = set(_DEFAULT_CHANNELS[kind]) if wanted else set()
        if wanted and Permission.admin in granted:
            on.add("webhook")
        matrix[kind] = {channel: channel in on for channel in CHANNELS}
    return matrix


def effective(role: Role, choices: Mapping[str, Any] | None) -> Matrix:
    """Defaults overlaid with what the member chose; unavailable kinds are all off."""
    matrix = defaults(role)
    for kind, row in (choices or {}).items():
        if kind not in matrix or not isinstance(row, Mapping):
            continue
        for channel, value in row.items():
            if channel in CHANNELS and isinstance(value, bool):
                matrix[kind][channel] = value
    for kind in KINDS:
        if not available(kind, role):
            matrix[kind] = dict.fromkeys(CHANNELS, False)
    return matrix


def validate(role: Role, submitted: Any) -> Matrix:
    """Check a submitted (partial) matrix; 422 naming the unknown kind or channel."""
    if not isinstance(submitted, Mapping):
        raise ValidationFailed(
            "'preferences' must be an object: event kind -> channel -> true/false.",
            errors=[{"field": "preferences", "message": "expected an object"}],
        )
    clean: Matrix = {}
    for kind, row in submitted.items():
        if kind not in KINDS:
            raise ValidationFailed(
                f"Unknown notification kind '{kind}'; use one of: {', '.join(KINDS)}.",
                errors=[{"field": f"preferences.{kind}", "message": "unknown kind"}],
            )
        if not isinstance(row, Mapping):
            raise ValidationFailed(
                f"preferences.{kind} must be an object: channel -> true/false.",
                errors=[{"field": f"preferences.{kind}", "message": "expected an object"}],
            )
        clean[kind] = {}
        for channel, value in row.items():
            if channel not in CHANNELS:
                raise ValidationFailed(
                    f"Unknown notification channel '{channel}' (in {kind}); use one of: "
                    f"{', '.join(CHANNELS)}.",
                    errors=[{"field": f"preferences.{kind}.{channel}", "message": "unknown"}],
                )
            if not isinstance(value, bool):
                raise ValidationFailed(
                    f"preferences.{kind}.{channel} must be true or false.",
                    errors=[{"field": f"preferences.{kind}.{channel}", "message": "not a bool"}],
                )
            if value and not available(kind, role):
                raise ValidationFailed(
                    f"Your role ({role.value}) cannot approve posts, so approval requests are "
                    "not sent to you; leave them off.",
                    errors=[{"field": f"preferences.{kind}.{channel}", "message": "unavailable"}],
                )
            clean[kind][channel] = value
    return clean


def merge(stored: Mapping[str, Any] | None, update: Matrix) -> dict[str, Any]:
    """The stored choices after applying an update (only the cells it names change)."""
    merged: dict[str, Any] = {k: dict(v) for k, v in (stored or {}).items() if k in KINDS}
    for kind, row in update.items():
        merged.setdefault(kind, {}).update(row)
    return merged
