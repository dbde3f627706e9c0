"""Read-back of mentions, replies and comments into the inbox, one connection at a time.

Safe to run twice at once (several schedulers, DESIGN.md): a connection is polled only by the
caller whose conditional UPDATE claimed its poll row (``PollRepository.claim``), and new
interactions are inserted with ON CONFLICT DO NOTHING on (connection, platform id), so a
duplicate delivery or a re-read page is stored once. Failures follow the error class:

- ``RateLimited``/``QuotaExhausted``: next poll at the platform's reset.
- ``ReadBackUnsupported``: the reason is recorded, shown in the UI, and the connection is not
  polled again until it is reconnected (its ``token_version`` changes).
- ``AuthExpired``: refresh once (serialised per connection), then wait for the next interval.
- Anything else: recorded as ``last_error``; polled again at the next interval.

Budgets: LinkedIn comment reads count against the engine's daily app request quota
(``DIGIPERSONA_QUOTA_LINKEDIN_APP_REQUESTS_PER_DAY``, one request per post read, shared with
publishing and the metrics sync): a poll reads at most as many recent posts as a whole window
admits (the newest), and in a partly spent window the newest that still fit, keeping the
cursor where it was (LinkedIn's cursor is a time filter over all the posts read: advancing it
past posts not read this time would skip their comments); a spent window waits for the next
one. X bills every
post read (platform-apis 1.6), so reads are added to the connection's monthly spend and a
connection whose monthly budget is used up is not read until the month ends (the price per read
is ``Provider.read_cost_usd``, shared with the metrics sync).

Scoring: the transparent rules (``leads.score_lead``), blended with the operator's AI provider
as a classifier when one other than the offline ``template`` provider is configured; a provider
that fails leaves the rules' score (and after its first failure it is not asked again in that
poll).

A new interaction scored as a lead is notified (``interaction.lead``) and fires the persona's
engagement trigger (autopilot, opt-in): a follow-up draft built on the interaction's text and
link, in its own unit of work after the page is stored; a failing trigger is logged, never
fails the poll.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from digipersona.autopilot.service import fire_engagement_safely
from digipersona.config import Settings
from digipersona.connections.credentials import call_with_refresh, credentials_for
from digipersona.db import session_scope, write_scope
from digipersona.generation import GenerationProvider, config_from_settings, get_provider
from digipersona.generation.base import LeadHints
from digipersona.interactions import lead_learning
from digipersona.interactions.leads import LeadScore, score_lead
from digipersona.interactions.repository import InteractionRepository, PollRepository
from digipersona.kit.crypto import TokenCipher
from digipersona.kit.metrics import INTERACTION_POLLS
from digipersona.kit.time import ensure_utc, utcnow
from digipersona.models import Connection, InteractionStatus
from digipersona.notifications.service import notify
from digipersona.platforms import errors, quotas
from digipersona.platforms.base import (
    InboundInteraction,
    InteractionPage,
    Provider,
    ReadBackUnsupported,
)
from digipersona.platforms.factory import build_provider
from digipersona.platforms.registry import get_provider_class

logger = logging.getLogger("digipersona.interactions")

LEASE = timedelta(minutes=5)
RECENT_POSTS_DAYS = 14
RECENT_POSTS_LIMIT = 20
BATCH = 20
AUTH_RETRY = timedelta(hours=1)


@dataclass
class PollReport:
    """What one run did (for logs and tests)."""

    polled: int = 0
    stored: int = 0
    leads: int = 0
    outcomes: dict[str, str] = field(default_factory=dict)


def poll_due(
    factory: sessionmaker[Session],
    settings: Settings,
    cipher: TokenCipher,
    http: httpx.Client,
    *,
    clock: Callable[[], datetime] = utcnow,
    owner: str | None = None,
    providers: dict[str, Provider] | None = None,
) -> PollReport:
    """Poll every connection that is due and that this caller manages to claim."""
    owner = owner or uuid.uuid4().hex
    providers = providers if providers is not None else {}
    report = PollReport()
    now = clock()
    with write_scope(factory) as session:
        polls = PollRepository(session)
        polls.ensure_rows(now)
        candidates = polls.due(now, BATCH)
    for connection_id in candidates:
        with write_scope(factory) as session:
            claimed = PollRepository(session).claim(connection_id, owner, clock(), LEASE)
        if not claimed:
            continue
        report.polled += 1
        try:
            outcome = _poll_one(
                factory, settings, cipher, http, providers, connection_id, owner, clock, report
            )
        except Exception as exc:  # a bug must not leave the row leased forever
            logger.exception("polling interactions of %s failed", connection_id)
            with write_scope(factory) as session:
                PollRepository(session).finish(
                    connection_id,
                    owner,
                    last_error=f"Unexpected error: {type(exc).__name__}",
                    next_poll_at=clock() + timedelta(seconds=settings.interactions_poll_seconds),
                    updated_at=clock(),
                )
            outcome = "error"
        report.outcomes[str(connection_id)] = outcome
        INTERACTION_POLLS.labels(outcome).inc()
    return report


def _provider(
    providers: dict[str, Provider], platform: str, settings: Settings, http: httpx.Client
) -> Provider:
    if platform not in providers:
        providers[platform] = build_provider(platform, settings, http)
    return providers[platform]


def _poll_one(
    factory: sessionmaker[Session],
    settings: Settings,
    cipher: TokenCipher,
    http: httpx.Client,
    providers: dict[str, Provider],
    connection_id: uuid.UUID,
    owner: str,
    clock: Callable[[], datetime],
    report: PollReport,
) -> str:
    interval = timedelta(seconds=settings.interactions_poll_seconds)
    with session_scope(factory) as session:
        connection = session.get(Connection, connection_id)
        poll = PollRepository(session).get_by_connection(connection_id)
        if connection is None or poll is None:
            return "gone"
        session.expunge(connection)
        cursor = poll.cursor
        quota = quotas.linkedin_read_quota(settings, connection.platform)
        # More posts than a whole window admits could never be counted: the newest that fit.
        recent = PollRepository(session).recent_post_ids(
            connection_id,
            clock() - timedelta(days=RECENT_POSTS_DAYS),
            min(RECENT_POSTS_LIMIT, quota.limit) if quota else RECENT_POSTS_LIMIT,
        )
    held = _budget_hold(connection, clock())
    partial = False
    if held is None and quota is not None and recent:
        now = clock()
        admitted = quotas.admit_linkedin_reads(
            factory, quota, connection.id, now, wanted=len(recent)
        )
        if admitted == 0:
            held = (
                quota.window_end(now),
                quotas.linkedin_reads_spent(
                    quota, now, reading="comments", shared="publishing and the metrics sync"
                ),
            )
        elif admitted < len(recent):
            recent, partial = recent[:admitted], True
    if held is not None:
        retry_at, reason = held
        _finish(factory, connection_id, owner, clock, last_error=reason, next_poll_at=retry_at)
        return "budget"
    try:
        provider = _provider(providers, connection.platform, settings, http)
        page = _fetch(factory, cipher, provider, connection, cursor, recent)
    except ReadBackUnsupported as exc:
        _finish(
            factory,
            connection_id,
            owner,
            clock,
            unsupported_reason=exc.reason,
            token_version=connection.token_version,
            last_error=None,
            next_poll_at=clock() + interval,
        )
        return "unsupported"
    except (errors.RateLimited, errors.QuotaExhausted) as exc:
        retry_at = exc.retry_at or clock() + timedelta(days=1)
        _finish(
            factory,
            connection_id,
            owner,
            clock,
            last_error=exc.message,
            next_poll_at=max(retry_at, clock()),
        )
        return "rate_limited"
    except errors.AuthExpired as exc:
        _finish(
            factory,
            connection_id,
            owner,
            clock,
            last_error=exc.message,
            next_poll_at=clock() + AUTH_RETRY,
        )
        return "auth_expired"
    except errors.PlatformError as exc:
        _finish(
            factory,
            connection_id,
            owner,
            clock,
            last_error=exc.message,
            next_poll_at=clock() + interval,
        )
        return "error"
    except (KeyError, ValueError) as exc:  # an unknown platform or a provider not configured
        _finish(
            factory,
            connection_id,
            owner,
            clock,
            unsupported_reason=f"Reading back is not available: {exc}",
            token_version=connection.token_version,
            next_poll_at=clock() + interval,
        )
        return "unsupported"
    verdicts = _score_fresh(factory, settings, connection, page)
    with write_scope(factory) as session:
        stored, lead_rows = _store(session, connection, page, now=clock(), verdicts=verdicts)
        leads = len(lead_rows)
        price = provider.read_cost_usd * len(page.items)
        if price > 0:
            PollRepository(session).add_read_spend(connection_id, clock().strftime("%Y-%m"), price)
        still_ours = PollRepository(session).finish(
            connection_id,
            owner,
            cursor=cursor if partial else page.cursor,
            last_polled_at=clock(),
            last_error=None,
            next_poll_at=clock() + interval,
            updated_at=clock(),
        )
        if not still_ours:
            # Our lease ran out and someone else polls now: what we stored is idempotent anyway.
            logger.info("lease on %s lost while polling", connection_id)
    report.stored += stored
    report.leads += leads
    for row in lead_rows:
        _fire_engagement(factory, settings, connection, row, clock())
    return "ok"


def _fire_engagement(
    factory: sessionmaker[Session],
    settings: Settings,
    connection: Connection,
    row: dict[str, Any],
    now: datetime,
) -> None:
    """A new lead may trigger a follow-up draft (the persona's engagement trigger, opt-in).

    After the interactions are committed, in the autopilot's own units of work (none open while
    the AI provider answers): a failure is logged and the poll goes on (the autopilot records
    the run, failed or not).
    """
    fire_engagement_safely(
        factory,
        persona_id=connection.persona_id,
        reason=(
            f"Possible lead on {connection.platform} from {_who(row)} "
            f"(lead score {row['lead_score']})"
        ),
        text=str(row["text"]),
        url=row["url"],
        settings=settings,
        now=now,
    )


def _who(row: dict[str, Any]) -> str:
    return str(
        row["author_name"] or (f"@{row['author_handle']}" if row["author_handle"] else "someone")
    )


def _budget_hold(connection: Connection, now: datetime) -> tuple[datetime, str] | None:
    """When reading now would break the monthly budget: (when to try again, why); else ``None``."""
    month = now.strftime("%Y-%m")
    budget = connection.monthly_budget_usd
    spent = float(connection.spend_usd or 0) if connection.spend_month == month else 0.0
    billed = _read_cost(connection.platform) > 0
    if billed and budget is not None and spent >= float(budget):
        next_month = (now.replace(day=1) + timedelta(days=32)).replace(
            day=1, hour=0, minute=0, second=0, microsecond=0
        )
        return next_month, (
            f"The monthly budget of ${float(budget):.2f} is used up (${spent:.2f}); mentions "
            "are read again next month or when the budget is raised."
        )
    return None


class _Classifier:
    """The operator's AI provider as the lead classifier of one poll.

    After its first failure it is not asked again during that poll: every later interaction
    gets the same failure at once (the rules score alone, with a reason saying the AI was
    unavailable) instead of waiting out a timeout each.
    """

    def __init__(self, provider: GenerationProvider, hints: LeadHints | None = None) -> None:
        self.provider = provider
        self.hints = hints
        self.failure: Exception | None = None

    def classify_lead(self, text: str) -> tuple[int, list[str]] | None:
        if self.failure is not None:
            raise self.failure
        try:
            return self.provider.classify_lead(text, hints=self.hints)
        except Exception as exc:
            logger.warning("the AI lead classifier failed: %s", type(exc).__name__)
            self.failure = exc
            raise


def _score_fresh(
    factory: sessionmaker[Session],
    settings: Settings,
    connection: Connection,
    page: InteractionPage,
) -> dict[str, LeadScore]:
    """Scores of the page's new items blended with the AI classifier, made before the write
    transaction (a model call must not hold the database's write lock).

    Only when the operator configured an AI provider other than the offline ``template`` one
    (``DIGIPERSONA_LLM_PROVIDER``), which has no opinion on leads. ``{}`` otherwise, or when the
    provider cannot be built: the rules score at storing time.
    """
    if settings.llm_provider == "template":
        return {}
    with session_scope(factory) as session:
        fresh = _fresh(InteractionRepository(session), connection, page)
        if not fresh:
            return {}
        model, context = lead_learning.scoring_for(session, connection)
        hints = lead_learning.llm_hints(session, connection)
    try:
        provider = get_provider(config_from_settings(settings))
    except Exception as exc:  # a misconfigured provider must not stop the inbox
        logger.warning("no AI lead classifier (%s); the rules score alone", exc)
        return {}
    classifier = _Classifier(provider, hints)
    try:
        return {
            item.external_id: score_lead(
                item.text,
                author_name=item.author_name,
                author_bio=item.author_bio,
                llm=classifier,
                model=model,
                context=context,
            )
            for item in fresh
        }
    finally:
        provider.close()


def _read_cost(platform: str) -> float:
    """USD per post read on ``platform`` (``Provider.read_cost_usd``; unknown platforms: 0)."""
    try:
        return get_provider_class(platform).read_cost_usd
    except KeyError:
        return 0.0


def _fetch(
    factory: sessionmaker[Session],
    cipher: TokenCipher,
    provider: Provider,
    connection: Connection,
    cursor: str | None,
    recent: list[str],
) -> InteractionPage:
    page, _credentials = call_with_refresh(
        factory,
        cipher,
        provider,
        connection_id=connection.id,
        token_version=connection.token_version,
        credentials=credentials_for(connection, cipher),
        call=lambda fresh: provider.fetch_interactions(fresh, cursor=cursor, recent_posts=recent),
    )
    return page


def _finish(
    factory: sessionmaker[Session],
    connection_id: uuid.UUID,
    owner: str,
    clock: Callable[[], datetime],
    **values: Any,
) -> None:
    with write_scope(factory) as session:
        PollRepository(session).finish(connection_id, owner, updated_at=clock(), **values)


def store_page(
    session: Session, connection: Connection, page: InteractionPage, *, now: datetime
) -> tuple[int, int]:
    """Store the page's new interactions once, scored; notify for leads. (stored, leads)."""
    stored, lead_rows = _store(session, connection, page, now=now)
    return stored, len(lead_rows)


def _fresh(
    repo: InteractionRepository, connection: Connection, page: InteractionPage
) -> list[InboundInteraction]:
    """The page's items not stored yet, each once."""
    seen: set[str] = set()
    items = []
    for item in page.items:
        # Partial data: an item without a platform id cannot be stored idempotently.
        if not item.external_id or item.external_id in seen:
            continue
        seen.add(item.external_id)
        items.append(item)
    known = repo.existing_external_ids(connection.id, [i.external_id for i in items])
    return [i for i in items if i.external_id not in known]


def _store(
    session: Session,
    connection: Connection,
    page: InteractionPage,
    *,
    now: datetime,
    verdicts: dict[str, LeadScore] | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """``store_page`` that returns the rows of the new leads (for the engagement trigger).

    ``verdicts`` are scores made beforehand (with the AI classifier, see ``_score_fresh``);
    an item without one is scored by the rules here.
    """
    repo = InteractionRepository(session)
    fresh = _fresh(repo, connection, page)
    if not fresh:
        return 0, []
    publications = repo.publications_by_external_id(
        connection.id, [i.subject_external_id or "" for i in fresh]
    )
    rows = []
    model, context = lead_learning.scoring_for(session, connection)
    for item in fresh:
        verdict = (verdicts or {}).get(item.external_id) or score_lead(
            item.text,
            author_name=item.author_name,
            author_bio=item.author_bio,
            model=model,
            context=context,
        )
        target = item.reply_target
        rows.append(
            {
                "id": uuid.uuid4(),
                "workspace_id": connection.workspace_id,
                "persona_id": connection.persona_id,
                "connection_id": connection.id,
                "platform": connection.platform,
                "external_id": item.external_id[:512],
                "kind": item.kind,
                "text": item.text,
                "author_id": item.author_id[:255],
                "author_handle": item.author_handle[:255],
                "author_name": item.author_name[:255],
                "author_bio": item.author_bio,
                "url": item.url,
                "platform_created_at": ensure_utc(item.created_at),
                "received_at": now,
                "publication_id": publications.get(item.subject_external_id or ""),
                "subject_external_id": item.subject_external_id,
                "reply_target": {
                    "parent_id": target.parent_id,
                    "root_id": target.root_id,
                    "extra": dict(target.extra),
                }
                if target is not None
                else None,
                "lead_score": verdict.score,
                "lead_reasons": list(verdict.reasons),
                "is_lead": verdict.is_lead,
                "status": InteractionStatus.new.value,
                "created_at": now,
                "updated_at": now,
            }
        )
    inserted = set(repo.insert_new(rows))
    leads: list[dict[str, Any]] = []
    for row in rows:
        if row["id"] not in inserted or not row["is_lead"]:
            continue
        leads.append(row)
        who = _who(row)
        notify(
            session,
            workspace_id=connection.workspace_id,
            kind="interaction.lead",
            title=f"Possible lead on {connection.platform}: {who} (score {row['lead_score']})",
            body=str(row["text"])[:280],
            data={
                "interaction_id": str(row["id"]),
                "persona_id": str(connection.persona_id),
                "platform": connection.platform,
                "score": row["lead_score"],
                "reasons": row["lead_reasons"],
                "url": row["url"],
            },
        )
    return len(inserted), leads


def mark_replied(factory: sessionmaker[Session]) -> int:
    """Interactions whose reply was published become ``replied`` (idempotent)."""
    with write_scope(factory) as session:
        rows = InteractionRepository(session).replied_by_published()
        for row in rows:
            row.status = InteractionStatus.replied.value
        return len(rows)
