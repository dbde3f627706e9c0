"""The autopilot: drafts made on a schedule (rules) or when something happens (triggers).

How a run works (rules, feed items, webhooks and engagement events alike):

1. Plan the drafts: topics rotate through the rule's pillars (or the persona's topics) and post
   structures rotate through the provider's structures, never repeating the previous draft's
   topic or structure when there is a choice.
2. Draft them through the posts service (the same path as ``digipersona generate`` and
   ``POST /api/v1/content/generate``), then route each draft: into review (the default), or, for
   personas with ``auto_approve`` and a rule whose destination is ``slots``, approved and
   scheduled into the persona's next free slots through the publishing service.
3. Record the run: when, which posts, why nothing was made, or what failed.

NO TRANSACTION IS OPEN WHILE THE AI PROVIDER ANSWERS (seconds to tens of seconds for a remote
model). SQLite has one write lock: held that long, it would stall the publishing dispatcher and
every web request. And a deferred transaction that reads, waits, then writes fails at once on
SQLite ("database is locked", SQLITE_BUSY_SNAPSHOT) if another writer committed meanwhile, so the
reads and the write cannot share one transaction either. Each run is therefore three steps, and
these entry points take the session factory rather than a session: (a) a short read unit of work
plans the drafts and gathers the prompt's inputs as plain data; (b) the provider is asked with no
session open; (c) a short ``write_scope`` re-loads the rule or trigger, re-checks what may have
changed meanwhile (deleted, paused, the queue filled), then writes the drafts, routes them and
records the run exactly once. A webhook event is claimed in a first short ``write_scope`` so the
same event delivered twice at once is drafted once; a feed is claimed by its poll lease (tasks).

A run is ALL OR NOTHING: its drafts are written inside a savepoint, and any failure (the AI
provider is down halfway, a database error) rolls every draft of that run back; the run is
recorded as failed and the rule is retried after ``DIGIPERSONA_AUTOPILOT_RETRY_MINUTES``
(doubling per consecutive failure, never later than its next regular time). A draft that is
created but cannot go to review (a guardrail refuses it) stays a draft, and the run says why.

Where it lives: ``rules.py`` (schedules), ``triggers.py`` (feeds, webhooks, engagement: adding
and changing them), ``owned.py`` (what rules and triggers share), ``drafting.py`` (asking the
provider, saving, routing and recording a run), ``events.py`` (a run from one event),
``feed_polling.py``, ``webhooks.py``, ``engagement.py`` (each kind of trigger firing) and
``status.py`` (the autopilot in plain words). This module is what the endpoints, views, tasks,
the CLI and other domains call.

The autopilot acts as the workspace's first owner (like the CLI) but with only the ``read``,
``drafts`` and ``publish`` permissions: it can never approve a post of a persona that requires
approval.
"""

from __future__ import annotations

from digipersona.autopilot.drafting import AUTOPILOT_PERMISSIONS, autopilot_principal
from digipersona.autopilot.engagement import fire_engagement, fire_engagement_safely
from digipersona.autopilot.feed_polling import poll_feed
from digipersona.autopilot.rules import (
    MAX_DRAFTS_PER_RUN,
    RulePlan,
    create_rule,
    delete_rule,
    get_rule,
    list_rules,
    plan_rule,
    preview_rule,
    reanchor_if_moved,
    run_persona_now,
    run_rule,
    update_rule,
)
from digipersona.autopilot.status import (
    PersonaStatus,
    describe_next,
    describe_schedule,
    list_runs,
    status,
)
from digipersona.autopilot.triggers import (
    CreatedTrigger,
    create_trigger,
    delete_trigger,
    get_trigger,
    list_triggers,
    rotate_token,
    update_trigger,
)
from digipersona.autopilot.webhooks import EVENT_CLAIM_TIMEOUT, fire_webhook, webhook_trigger

__all__ = [
    "AUTOPILOT_PERMISSIONS",
    "EVENT_CLAIM_TIMEOUT",
    "MAX_DRAFTS_PER_RUN",
    "CreatedTrigger",
    "PersonaStatus",
    "RulePlan",
    "autopilot_principal",
    "create_rule",
    "create_trigger",
    "delete_rule",
    "delete_trigger",
    "describe_next",
    "describe_schedule",
    "fire_engagement",
    "fire_engagement_safely",
    "fire_webhook",
    "get_rule",
    "get_trigger",
    "list_rules",
    "list_runs",
    "list_triggers",
    "plan_rule",
    "poll_feed",
    "preview_rule",
    "reanchor_if_moved",
    "rotate_token",
    "run_persona_now",
    "run_rule",
    "status",
    "update_rule",
    "update_trigger",
    "webhook_trigger",
]
