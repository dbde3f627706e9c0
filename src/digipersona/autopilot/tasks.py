"""Jobs of the autopilot: run due rules, poll due feeds (both safe with several schedulers).

Each job claims its rows one by one with a conditional UPDATE that moves ``next_run_at`` /
``next_poll_at`` a lease into the future, commits the claim, then works in its own transactions
(a rule run opens no transaction while the AI provider answers, see ``service.run_rule``).
A second scheduler's UPDATE matches nothing; a crash mid-run leaves the lease to expire, and the
rule or feed is picked up again then.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import httpx
from sqlalchemy.orm import Session, sessionmaker

from digipersona import db
from digipersona.autopilot import service
from digipersona.autopilot.repository import RuleRepository, TriggerRepository
from digipersona.config import Settings
from digipersona.generation import GenerationProvider
from digipersona.kit.metrics import AUTOPILOT_RUNS
from digipersona.kit.time import utcnow
from digipersona.models import GenerationRule
from digipersona.worker import runtime
from digipersona.worker.registry import periodic

logger = logging.getLogger(__name__)
LEASE = timedelta(minutes=10)
BATCH = 50


def run_due_rules(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime | None = None,
    provider: GenerationProvider | None = None,
) -> int:
    """Run every rule whose time has come; returns how many this call ran."""
    now = now or utcnow()
    with db.session_scope(factory) as session:
        due = RuleRepository(session).due_ids(now, limit=BATCH)
    ran = 0
    for rule_id in due:
        with db.session_scope(factory) as session:
            if not RuleRepository(session).claim(rule_id, now, now + LEASE):
                continue  # another scheduler took it
        try:
            with db.write_scope(factory) as session:
                rule = session.get(GenerationRule, rule_id)
                if rule is None or not rule.enabled:
                    continue
                if service.reanchor_if_moved(session, rule, now):
                    logger.info("autopilot rule %s re-anchored to a new time zone", rule_id)
                    continue
            # Its own units of work: no transaction is open while the AI provider answers.
            run = service.run_rule(factory, settings, rule_id, now=now, provider=provider)
            logger.info("autopilot rule %s ran: %s", rule_id, run.status if run else "gone")
            if run is not None:
                AUTOPILOT_RUNS.labels(run.status).inc()
        except Exception:
            # One broken rule must not stop the others; its lease expires and it runs again.
            logger.exception("autopilot rule %s crashed; retried when its lease ends", rule_id)
            AUTOPILOT_RUNS.labels("crashed").inc()
            continue
        ran += 1
    return ran


@periodic("autopilot.run_due_rules", every_seconds=60)
def run_due_rules_job() -> int:
    rt = runtime.current()
    return run_due_rules(rt.factory, rt.settings)


def poll_due_feeds(
    factory: sessionmaker[Session],
    settings: Settings,
    http: httpx.Client,
    *,
    now: datetime | None = None,
    provider: GenerationProvider | None = None,
) -> int:
    """Poll every feed whose interval has passed; returns how many this call polled."""
    now = now or utcnow()
    with db.session_scope(factory) as session:
        due = TriggerRepository(session).due_feed_ids(now, limit=BATCH)
    polled = 0
    for trigger_id in due:
        with db.session_scope(factory) as session:
            if not TriggerRepository(session).claim_feed(trigger_id, now, now + LEASE):
                continue
        try:
            # Its own units of work: none is open during the fetch or while the AI answers.
            runs = service.poll_feed(
                factory, settings, http, trigger_id, now=now, provider=provider
            )
            if runs is None:
                continue  # deleted or disabled since it was due
        except Exception:
            logger.exception("autopilot feed %s crashed; retried when its lease ends", trigger_id)
            continue
        polled += 1
    return polled


@periodic("autopilot.poll_feeds", every_seconds=60)
def poll_feeds_job() -> int:
    rt = runtime.current()
    return poll_due_feeds(rt.factory, rt.settings, rt.http)
