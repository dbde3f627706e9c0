"""Metrics sync: read each publication's engagement on a decaying schedule, keep every reading.

Schedule (``repository.OFFSETS``): 1 h, 6 h, 24 h, 3 d and 7 d after publication, then stop.
A run that comes late skips the steps whose time has passed. Every reading is a new
``MetricSnapshot`` row (history, not just the latest).

Outcomes per post, by what the platform said:

- a reading: stored; ``None`` figures mean "not provided" (partial data is kept as it is); a
  reading without any figure (the platform does not know the post yet) is retried like a miss;
- ``deleted``: the schedule stops with ``deleted``; earlier snapshots stay;
- ``ReadBackUnsupported``: stops with ``unsupported`` and the platform's note (shown in the UI);
- ``RateLimited``/``QuotaExhausted``: the rows wait until the platform's reset;
- LinkedIn reads count against the engine's daily app request quota
  (``DIGIPERSONA_QUOTA_LINKEDIN_APP_REQUESTS_PER_DAY``, shared with publishing and interactions
  polling; ``metrics_requests_per_post`` requests per post) before they are made. A batch never
  holds more posts than a whole window admits, and a partly spent window reads the posts that
  still fit (oldest due first); the rest wait for the quota's next window, unread. A quota too
  small for even one post keeps the rows waiting with a message naming the setting (they are
  read once it is raised);
- a billed read (X, ``Provider.read_cost_usd``) is reserved against the connection's monthly
  budget first, atomically; over budget the rows wait for the next month, nothing is read;
- ``AuthExpired``: one serialised refresh, then the rows wait and the error is recorded;
- anything else: exponential backoff; after ``MAX_ATTEMPTS`` the schedule stops with ``failed``.

Engagement spikes: after a reading is stored, a post whose engagement (likes + reposts + replies
+ quotes) is at least ``DIGIPERSONA_AUTOPILOT_ENGAGEMENT_MULTIPLIER`` (3) times the median of
the persona's other posts on the same platform at the same stage (a median below 1 counts as 1),
with at least ``DIGIPERSONA_AUTOPILOT_ENGAGEMENT_MIN_HISTORY`` (5) of them, fires the persona's
engagement trigger (autopilot, opt-in) once per post: ``Post.engagement_spike_at`` is claimed
with a conditional UPDATE, so two runs or two platforms of one post never fire twice. A failing
trigger is logged and the sync goes on.

Safe to run twice concurrently: rows are claimed with a conditional UPDATE that moves
``next_sync_at`` past a lease, so each due row is read by one run only.
"""

from __future__ import annotations

import logging
import statistics
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from digipersona.analytics import repository
from digipersona.analytics.repository import OFFSETS, Claimed
from digipersona.autopilot.service import fire_engagement_safely
from digipersona.config import Settings, get_settings
from digipersona.connections.credentials import call_with_refresh, credentials_for
from digipersona.db import write_scope
from digipersona.kit.crypto import TokenCipher
from digipersona.kit.metrics import METRICS_SYNC_READS
from digipersona.kit.words import plural
from digipersona.models import (
    Connection,
    ConnectionState,
    MetricSnapshot,
    MetricsSchedule,
    MetricsStop,
)
from digipersona.platforms import errors, quotas
from digipersona.platforms.base import (
    Credentials,
    MetricsReading,
    Provider,
    ReadBackUnsupported,
)
from digipersona.publishing import summary

logger = logging.getLogger("digipersona.analytics")

LEASE = timedelta(minutes=30)
MAX_ATTEMPTS = 6
RETRY_BASE = timedelta(minutes=15)
RECONNECT_WAIT = timedelta(hours=24)


@dataclass
class SyncReport:
    """What one run did (for logs and tests)."""

    scheduled: int = 0
    claimed: int = 0
    snapshots: int = 0
    deleted: int = 0
    unsupported: int = 0
    waiting: int = 0
    failed: int = 0
    finished: int = 0
    spikes: int = 0


@dataclass(frozen=True)
class _Reading:
    """A stored reading, to compare with the persona's median afterwards."""

    publication_id: uuid.UUID
    platform: str
    stage: int
    engagement: int


def next_stage(published_at: datetime, stage: int, now: datetime) -> int:
    """The next step after ``stage`` whose time has not passed yet (``len(OFFSETS)``: done)."""
    index = stage + 1
    while index < len(OFFSETS) and published_at + OFFSETS[index] <= now:
        index += 1
    return index


def sync_metrics(
    factory: sessionmaker[Session],
    cipher: TokenCipher,
    provider_for: Callable[[str], Provider],
    clock: Callable[[], datetime],
    *,
    limit: int = 500,
    settings: Settings | None = None,
) -> SyncReport:
    """One pass: schedule new publications, claim due rows, read them per connection."""
    settings = settings or get_settings()
    report = SyncReport()
    now = clock()
    with write_scope(factory) as session:
        report.scheduled = repository.ensure_schedules(session, now)
    with write_scope(factory) as session:
        claimed = repository.claim_due(session, now, now + LEASE, limit)
    report.claimed = len(claimed)
    by_connection: dict[uuid.UUID, list[Claimed]] = defaultdict(list)
    for row in claimed:
        by_connection[row.connection_id].append(row)
    for connection_id, rows in by_connection.items():
        try:
            _sync_connection(
                factory, settings, cipher, provider_for, clock, connection_id, rows, report
            )
        except Exception as exc:  # one connection's surprise must not stop the others
            logger.exception("metrics sync failed for connection %s", connection_id)
            _retry_later(factory, rows, clock(), f"Unexpected error: {type(exc).__name__}", report)
    _count_reads(report)
    return report


def _count_reads(report: SyncReport) -> None:
    for outcome in ("snapshots", "waiting", "failed", "unsupported"):
        if count := getattr(report, outcome):
            METRICS_SYNC_READS.labels(outcome).inc(count)


def _sync_connection(
    factory: sessionmaker[Session],
    settings: Settings,
    cipher: TokenCipher,
    provider_for: Callable[[str], Provider],
    clock: Callable[[], datetime],
    connection_id: uuid.UUID,
    rows: list[Claimed],
    report: SyncReport,
) -> None:
    with factory() as session:
        connection = session.get(Connection, connection_id)
        if connection is not None:
            session.expunge(connection)
    if connection is None:
        return
    if connection.state in (ConnectionState.revoked.value, ConnectionState.needs_reconnect.value):
        _wait(
            factory,
            rows,
            clock() + RECONNECT_WAIT,
            "The connection needs reconnecting; metrics resume after that.",
            report,
        )
        return
    provider = provider_for(rows[0].platform)
    credentials = credentials_for(connection, cipher)
    # Oldest due first: rows a quota held back are read before those it let through.
    readable = sorted((r for r in rows if r.external_id), key=_due_at)
    size = max(1, provider.metrics_batch_size)
    cost_each = provider.read_cost_usd
    quota = quotas.linkedin_read_quota(settings, connection.platform)
    per_post = max(1, provider.metrics_requests_per_post)
    if quota is not None:
        fits = quota.limit // per_post
        if fits == 0:
            now = clock()
            _wait(
                factory, readable, quota.window_end(now), _too_small(quota, per_post, now), report
            )
            return
        # A batch costing more than a whole window could never be counted: it would wait forever.
        size = min(size, fits)
    start = 0
    while start < len(readable):
        batch = readable[start : start + size]
        start += len(batch)
        if quota is not None:
            now = clock()
            admitted = quotas.admit_linkedin_reads(
                factory, quota, connection.id, now, wanted=len(batch), unit=per_post
            )
            if admitted < len(batch):
                # The window is spent: the batch's rest and every later row wait for the next.
                _wait(
                    factory,
                    readable[start - len(batch) + admitted :],
                    quota.window_end(now),
                    _spent(quota, now),
                    report,
                )
                start = len(readable)
                batch = batch[:admitted]
                if not batch:
                    break
        if cost_each > 0 and not _reserve(factory, connection_id, cost_each * len(batch), clock()):
            _wait(
                factory,
                batch,
                _next_month(clock()),
                "Reading metrics would exceed this connection's monthly budget; they resume "
                "next month or when the budget is raised.",
                report,
            )
            continue
        try:
            readings, credentials = _fetch(
                factory, cipher, provider, connection, credentials, batch
            )
        except ReadBackUnsupported as exc:
            _stop(factory, batch, clock(), MetricsStop.unsupported, exc.reason)
            report.unsupported += len(batch)
            continue
        except (errors.RateLimited, errors.QuotaExhausted) as exc:
            retry_at = exc.retry_at or clock() + timedelta(days=1)
            _wait(factory, batch, retry_at, exc.message, report)
            continue
        except errors.AuthExpired as exc:
            _wait(factory, batch, clock() + RECONNECT_WAIT, exc.message, report)
            continue
        except errors.PlatformError as exc:
            _retry_later(factory, batch, clock(), exc.message, report)
            continue
        stored = _record(factory, batch, readings, clock(), report)
        for reading in stored:
            _check_spike(factory, settings, reading, clock(), report)


def _check_spike(
    factory: sessionmaker[Session],
    settings: Settings,
    reading: _Reading,
    now: datetime,
    report: SyncReport,
) -> None:
    """Fire the engagement trigger when the reading is well above the persona's median."""
    try:
        with write_scope(factory) as session:
            post = repository.post_of_publication(session, reading.publication_id)
            if post is None or post.spiked:
                return
            history = repository.stage_engagements(
                session,
                persona_id=post.persona_id,
                platform=reading.platform,
                stage=reading.stage,
                exclude_publication_id=reading.publication_id,
            )
            if len(history) < settings.autopilot_engagement_min_history:
                return
            median = statistics.median(history)
            threshold = settings.autopilot_engagement_multiplier * max(float(median), 1.0)
            if reading.engagement < threshold:
                return
            if not repository.claim_engagement_spike(session, post.post_id, now):
                return
    except Exception:
        logger.exception("engagement check of publication %s failed", reading.publication_id)
        return
    report.spikes += 1
    after = OFFSETS[min(reading.stage, len(OFFSETS) - 1)]
    ratio = reading.engagement / max(float(median), 1.0)
    # After the claim is committed, in the autopilot's own units of work: none is open while
    # the AI provider drafts the follow-up.
    fire_engagement_safely(
        factory,
        persona_id=post.persona_id,
        reason=(
            f"A {reading.platform} post reached {reading.engagement} likes, reposts, "
            f"replies and quotes {_describe(after)} after publication: {ratio:.1f}x the "
            f"persona's median of {median:g} ({plural(len(history), 'post')})"
        ),
        text=post.body,
        url=post.url,
        settings=settings,
        now=now,
    )


def _describe(offset: timedelta) -> str:
    hours = int(offset.total_seconds() // 3600)
    return f"{hours // 24} d" if hours >= 24 and hours % 24 == 0 else f"{hours} h"


def _due_at(row: Claimed) -> datetime:
    """When the row's current step fell due (a held-back row keeps its early time)."""
    return row.published_at + OFFSETS[min(row.stage, len(OFFSETS) - 1)]


def _spent(quota: quotas.QuotaRule, now: datetime) -> str:
    return quotas.linkedin_reads_spent(
        quota, now, reading="metrics", shared="publishing and comment polling"
    )


def _too_small(quota: quotas.QuotaRule, per_post: int, now: datetime) -> str:
    return (
        f"Reading one post's metrics takes {per_post} requests, more than "
        f"DIGIPERSONA_QUOTA_LINKEDIN_APP_REQUESTS_PER_DAY={quota.limit} allows in a day: raise it "
        f"to at least {per_post} to read LinkedIn metrics (tried again after "
        f"{quota.window_end(now):%Y-%m-%d %H:%M} UTC)."
    )


def _next_month(now: datetime) -> datetime:
    return (now.replace(day=1) + timedelta(days=32)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )


def _reserve(
    factory: sessionmaker[Session], connection_id: uuid.UUID, cost: float, now: datetime
) -> bool:
    """Reserve the reads' price against the monthly budget (publishing shares it)."""
    with write_scope(factory) as session:
        return repository.reserve_spend(session, connection_id, cost, now.strftime("%Y-%m"))


def _fetch(
    factory: sessionmaker[Session],
    cipher: TokenCipher,
    provider: Provider,
    connection: Connection,
    credentials: Credentials,
    batch: Sequence[Claimed],
) -> tuple[Sequence[MetricsReading], Credentials]:
    ids = [row.external_id for row in batch]
    # A refresh is serialised with publishing's (X refresh tokens rotate).
    return call_with_refresh(
        factory,
        cipher,
        provider,
        connection_id=connection.id,
        token_version=connection.token_version,
        credentials=credentials,
        call=lambda fresh: provider.fetch_metrics(fresh, ids),
    )


def _record(
    factory: sessionmaker[Session],
    batch: Sequence[Claimed],
    readings: Sequence[MetricsReading],
    now: datetime,
    report: SyncReport,
) -> list[_Reading]:
    """Store the readings; return those with engagement figures (for the spike check)."""
    found = {r.external_id: r for r in readings}
    stored: list[_Reading] = []
    with write_scope(factory) as session:
        for row in batch:
            schedule = _owned(session, row)
            if schedule is None:
                continue
            reading = found.get(row.external_id)
            schedule.lease_expires_at = None
            if reading is None or _no_figures(reading):
                # Not known yet (Bluesky's AppView may not have indexed the post): an all-empty
                # snapshot would show "n/a" for what the platform does provide, so ask again.
                _backoff(schedule, now, "The platform returned no figures for this post.", report)
                continue
            if reading.deleted:
                _apply_stop(schedule, now, MetricsStop.deleted, "The post was deleted.")
                report.deleted += 1
                continue
            repository.add_snapshot(
                session,
                MetricSnapshot(
                    workspace_id=row.workspace_id,
                    publication_id=row.publication_id,
                    taken_at=now,
                    stage=row.stage,
                    likes=reading.likes,
                    reposts=reading.reposts,
                    replies=reading.replies,
                    quotes=reading.quotes,
                    impressions=reading.impressions,
                ),
            )
            report.snapshots += 1
            figures = [reading.likes, reading.reposts, reading.replies, reading.quotes]
            if any(f is not None for f in figures):
                stored.append(
                    _Reading(
                        row.publication_id,
                        row.platform,
                        row.stage,
                        sum(f or 0 for f in figures),
                    )
                )
            schedule.last_synced_at = now
            schedule.attempts = 0
            schedule.last_error = None
            stage = next_stage(row.published_at, row.stage, now)
            if stage >= len(OFFSETS):
                _apply_stop(schedule, now, MetricsStop.finished, None)
                schedule.stage = len(OFFSETS)
                report.finished += 1
            else:
                schedule.stage = stage
                schedule.next_sync_at = row.published_at + OFFSETS[stage]
        summary.refresh(session, [row.publication_id for row in batch])
    return stored


def _no_figures(reading: MetricsReading) -> bool:
    figures = (reading.likes, reading.reposts, reading.replies, reading.quotes, reading.impressions)
    return not reading.deleted and all(value is None for value in figures)


def _owned(session: Session, row: Claimed) -> MetricsSchedule | None:
    """The row if this run still holds its lease (a run slower than the lease lost it)."""
    schedule = repository.get_schedule(session, row.schedule_id)
    if schedule is None or schedule.stopped_reason is not None:
        return None
    if schedule.lease_expires_at != row.lease_until:
        logger.warning("metrics schedule %s was re-claimed by another run", row.schedule_id)
        return None
    return schedule


def _apply_stop(
    schedule: MetricsSchedule, now: datetime, reason: MetricsStop, note: str | None
) -> None:
    schedule.stopped_reason = reason.value
    schedule.stopped_note = note
    schedule.stopped_at = now
    schedule.next_sync_at = None
    schedule.lease_expires_at = None


def _backoff(schedule: MetricsSchedule, now: datetime, message: str, report: SyncReport) -> None:
    schedule.attempts += 1
    schedule.last_error = message
    schedule.lease_expires_at = None
    if schedule.attempts >= MAX_ATTEMPTS:
        _apply_stop(schedule, now, MetricsStop.failed, message)
        report.failed += 1
        return
    schedule.next_sync_at = now + RETRY_BASE * (2 ** (schedule.attempts - 1))
    report.waiting += 1


def _each_owned(
    factory: sessionmaker[Session],
    batch: Sequence[Claimed],
    apply: Callable[[MetricsSchedule], None],
) -> None:
    """Apply ``apply`` to every row of ``batch`` this run still holds, in one transaction."""
    with write_scope(factory) as session:
        for row in batch:
            schedule = _owned(session, row)
            if schedule is not None:
                apply(schedule)


def _stop(
    factory: sessionmaker[Session],
    batch: Sequence[Claimed],
    now: datetime,
    reason: MetricsStop,
    note: str,
) -> None:
    _each_owned(factory, batch, lambda schedule: _apply_stop(schedule, now, reason, note))


def _wait(
    factory: sessionmaker[Session],
    batch: Sequence[Claimed],
    until: datetime,
    message: str,
    report: SyncReport,
) -> None:
    def apply(schedule: MetricsSchedule) -> None:
        schedule.next_sync_at = until
        schedule.lease_expires_at = None
        schedule.last_error = message
        report.waiting += 1

    _each_owned(factory, batch, apply)


def _retry_later(
    factory: sessionmaker[Session],
    batch: Sequence[Claimed],
    now: datetime,
    message: str,
    report: SyncReport,
) -> None:
    _each_owned(factory, batch, lambda schedule: _backoff(schedule, now, message, report))
