"""``digipersona demo``: a realistic demo workspace, seeded through the product's own services.

Three personas with their own voices, time zones and slots; four weeks of published posts with
their metric history and two weeks of scheduled ones; posts waiting for approval; comments with
leads and drafted replies; autopilot rules and their runs. Content comes from ``content.py``;
times are relative to ``now`` and every other choice comes from one seeded ``random.Random``, so
two runs at the same moment write the same workspace.

Nothing of it can reach a platform: every connection carries ``DEMO_MARK`` in its ``extra``, and
``platforms.base.Provider`` refuses a demo connection's credentials in every method that could
make a request (publishing, read-back, refresh, revoke). Read-back is also switched off at the
source (poll rows marked unsupported, metrics schedules finished), so the inbox and analytics
pages say so instead of listing errors.

It fills only an empty workspace, or creates one named "Demo": a workspace with personas, posts
or connections of its own is refused (``Conflict``), and running it again on the demo workspace
changes nothing.
"""

from __future__ import annotations

import random
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from digipersona import db
from digipersona.auth import service as auth
from digipersona.auth.permissions import permissions_for
from digipersona.auth.principal import Principal
from digipersona.autopilot import service as autopilot
from digipersona.autopilot.repository import RunRepository
from digipersona.autopilot.schemas import RuleCreate
from digipersona.config import Settings
from digipersona.connections.repository import ConnectionRepository
from digipersona.demo import repository
from digipersona.demo.content import (
    PERSONAS,
    SHARED_POST,
    SHARED_POST_X,
    DemoAccount,
    DemoPersona,
)
from digipersona.exceptions import Conflict
from digipersona.interactions import replies
from digipersona.interactions.leads import score_lead
from digipersona.interactions.repository import InteractionRepository, PollRepository
from digipersona.kit.crypto import TokenCipher
from digipersona.kit.time import utcnow
from digipersona.models import (
    AutopilotRun,
    Connection,
    InteractionPoll,
    MetricSnapshot,
    MetricsSchedule,
    Persona,
    Post,
    Publication,
    PublicationState,
    Role,
    User,
    Workspace,
)
from digipersona.notifications import service as notifications
from digipersona.personas import service as personas
from digipersona.personas.schemas import PersonaCreate
from digipersona.platforms.base import DEMO_MARK
from digipersona.posts import service as posts
from digipersona.publishing import service as publishing
from digipersona.publishing import summary
from digipersona.publishing.statuses import sync_post_status

DEMO_WORKSPACE = "Demo"
DEMO_EMAIL = "demo@example.com"
DEFAULT_SEED = 2026
# Hours after publishing at which the metrics were "read", and the share of the final figures
# reached by then (engagement decays like the real sync schedule's readings).
READINGS = ((1, 0.3), (6, 0.65), (24, 0.88), (72, 0.97), (168, 1.0))
# What each network's metrics sync reads (its provider's ``metrics_fields``; a test keeps them in
# step). Written out so that seeding does not import every platform's client library.
METRICS_FIELDS = {
    "linkedin": ("likes", "reposts", "replies", "impressions"),
    "x": ("likes", "reposts", "replies", "quotes", "impressions"),
    "bluesky": ("likes", "reposts", "replies", "quotes"),
}
WEEKDAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}


@dataclass
class DemoReport:
    """What ``seed`` did: the workspace, how to log in, and what it wrote."""

    workspace_id: uuid.UUID
    workspace_name: str
    email: str
    password: str | None
    created: bool
    counts: dict[str, int] = field(default_factory=dict)


def seed(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    workspace_id: uuid.UUID | None = None,
    email: str = DEMO_EMAIL,
    password: str | None = None,
    now: datetime | None = None,
    seed_value: int = DEFAULT_SEED,
) -> DemoReport:
    """Fill an empty workspace (or a new "Demo" one) with the demo; see the module docstring."""
    now = (now or utcnow()).replace(microsecond=0)
    rng = random.Random(seed_value)
    with db.write_scope(factory) as session:
        found = _existing(session, workspace_id)
        if found is not None:
            return found
        principal, created_password = _owner(session, settings, workspace_id, email, password)
        counts, to_answer = _fill(session, settings, principal, now, rng)
        name = _workspace_name(session, principal.workspace_id)
    # Reply drafts go through the inbox's own service, which opens its own units of work.
    for interaction_id, text in to_answer:
        replies.create_draft(factory, principal, settings, interaction_id, text=text)
    counts["reply drafts"] = len(to_answer)
    return DemoReport(
        workspace_id=principal.workspace_id,
        workspace_name=name,
        email=principal.user.email,
        password=created_password,
        created=True,
        counts=counts,
    )


# -- which workspace -----------------------------------------------------------------------------
def _existing(session: Session, workspace_id: uuid.UUID | None) -> DemoReport | None:
    """The report of a workspace the demo already fills (nothing to do), or None to seed; a
    workspace with data of its own is refused."""
    if workspace_id is not None:
        candidates = [w for w in [session.get(Workspace, workspace_id)] if w is not None]
    else:
        candidates = repository.workspaces_named(session, DEMO_WORKSPACE)
    for workspace in candidates:
        found = repository.contents(session, workspace.id)
        if found.is_demo:
            return DemoReport(
                workspace_id=workspace.id,
                workspace_name=workspace.name,
                email="",
                password=None,
                created=False,
            )
        if not found.empty:
            raise Conflict(
                f"Workspace {workspace.name!r} holds data of its own ({found.personas} "
                f"personas, {found.posts} posts, {found.connections} connections): the demo "
                "only fills an empty workspace. Run `digipersona demo` without --workspace to "
                "get a separate workspace named 'Demo'."
            )
    return None


def _owner(
    session: Session,
    settings: Settings,
    workspace_id: uuid.UUID | None,
    email: str,
    password: str | None,
) -> tuple[Principal, str | None]:
    """Who acts: the empty workspace's owner, or a new user owning a new "Demo" workspace."""
    if workspace_id is not None:
        user = repository.first_owner(session, workspace_id)
        if user is None:
            raise Conflict("The workspace has no owner to act as.")
        return _principal(user, workspace_id), None
    existing = repository.workspaces_named(session, DEMO_WORKSPACE)
    if existing:
        user = repository.first_owner(session, existing[0].id)
        if user is not None:
            return _principal(user, existing[0].id), None
    chosen = password or secrets.token_urlsafe(12)
    user, workspace, _ = auth.register(
        session,
        settings.model_copy(update={"registration": "open"}),
        email=email,
        password=chosen,
        workspace_name=DEMO_WORKSPACE,
        display_name="Demo owner",
    )
    return _principal(user, workspace.id), chosen


def _principal(user: User, workspace_id: uuid.UUID) -> Principal:
    return Principal(
        user=user,
        workspace_id=workspace_id,
        role=Role.owner,
        permissions=permissions_for(Role.owner),
        via="cli",
    )


def _workspace_name(session: Session, workspace_id: uuid.UUID) -> str:
    workspace = session.get(Workspace, workspace_id)
    return workspace.name if workspace is not None else DEMO_WORKSPACE


# -- filling it ----------------------------------------------------------------------------------
def _fill(
    session: Session, settings: Settings, principal: Principal, now: datetime, rng: random.Random
) -> tuple[dict[str, int], list[tuple[uuid.UUID, str]]]:
    """Every persona with its accounts, posts, metrics, comments and rules; the comments to
    draft replies to."""
    cipher = TokenCipher(settings.encryption_key_list())
    counts = dict.fromkeys(
        ("personas", "connections", "published", "scheduled", "in review", "drafts"), 0
    )
    counts.update({"metric readings": 0, "interactions": 0, "leads": 0, "rules": 0, "runs": 0})
    to_answer: list[tuple[uuid.UUID, str]] = []
    made: list[tuple[DemoPersona, Persona, list[str]]] = []
    for spec in PERSONAS:
        persona = personas.create(session, principal, _persona_fields(spec))
        connections = [
            _connect(session, cipher, persona, account, now) for account in spec.accounts
        ]
        platforms = [c.platform for c in connections]
        published = _published(session, settings, principal, spec, persona, platforms, now)
        counts["metric readings"] += _metrics(session, spec, published, now, rng)
        counts["scheduled"] += _scheduled(
            session, settings, principal, spec, persona, platforms, now
        )
        for body in spec.drafts:
            posts.create(session, principal, persona_id=persona.id, body=body, platforms=platforms)
        answer, leads = _comments(session, spec, persona, connections, published, now, rng)
        to_answer += answer
        counts["runs"] += _autopilot(session, principal, spec, persona, platforms, now, rng)
        counts["personas"] += 1
        counts["connections"] += len(connections)
        counts["published"] += len(spec.published)
        counts["drafts"] += len(spec.drafts)
        counts["interactions"] += len(spec.comments)
        counts["leads"] += leads
        counts["rules"] += 1
        made.append((spec, persona, platforms))
    # What the month of history notified (approvals long since given) is read; what waits now
    # for a decision is not.
    notifications.mark_all_read(session, principal)
    for spec, persona, platforms in made:
        counts["in review"] += _in_review(session, principal, spec, persona, platforms, now)
    # The history was written straight into publications and metric readings, so the analytics
    # daily summary the pages read is computed from it once.
    session.flush()
    summary.rebuild(session, principal.workspace_id)
    return counts, to_answer


def _persona_fields(spec: DemoPersona) -> PersonaCreate:
    return PersonaCreate(
        name=spec.name,
        bio=spec.bio,
        voice=spec.voice,
        topics=spec.topics,
        audience=spec.audience,
        hashtags=spec.hashtags,
        example_posts=spec.published[:3],
        timezone=spec.timezone,
        slots=spec.slots,
        colour=spec.colour,
        max_lateness_minutes=120,
    )


def _connect(
    session: Session, cipher: TokenCipher, persona: Persona, account: DemoAccount, now: datetime
) -> Connection:
    """A demo connection: marked so no provider will call its platform, and with read-back
    switched off at the source."""
    extra: dict[str, object] = {DEMO_MARK: True}
    if account.platform == "webhook":
        # A reserved domain (RFC 2606): even the address could never be a real receiver.
        extra["url"] = "https://newsletter.example.com/hooks/demo"
    connection = ConnectionRepository(session).add(
        Connection(
            workspace_id=persona.workspace_id,
            persona_id=persona.id,
            platform=account.platform,
            account_id=f"demo:{account.platform}:{account.handle}",
            handle=account.handle,
            display_name=account.display_name,
            access_token_enc=cipher.encrypt(f"demo-{account.platform}-{account.handle}"),
            scopes=[],
            extra=extra,
            last_refreshed_at=now,
        )
    )
    PollRepository(session).add(
        InteractionPoll(
            connection_id=connection.id,
            workspace_id=connection.workspace_id,
            platform=connection.platform,
            next_poll_at=now,
            last_polled_at=now - timedelta(minutes=7),
            token_version=connection.token_version,
            unsupported_reason="Demo connection: nothing is read from the platform.",
        )
    )
    return connection


def _weekdays(spec: DemoPersona) -> set[int]:
    days: set[int] = set()
    for part in spec.slots[0].split(";"):
        key, _, value = part.partition("=")
        if key == "BYDAY":
            days |= {WEEKDAYS[day] for day in value.split(",")}
    return days


def _times(spec: DemoPersona, now: datetime, count: int, *, past: bool) -> list[datetime]:
    """``count`` posting times on the persona's slot days (oldest first): before ``now`` at
    the main slot and, one in three, at the persona's other hours; after it at the main slot."""
    zone = ZoneInfo(spec.timezone)
    today = now.astimezone(zone).date()
    step = -1 if past else 1
    found: list[datetime] = []
    day = today + timedelta(days=step)
    while len(found) < count:
        if day.weekday() in _weekdays(spec):
            index = len(found)
            hour, minute = spec.slot_hours[0]
            if past and index % 3 == 2:
                hour, minute = spec.slot_hours[1 + (index // 3) % (len(spec.slot_hours) - 1)]
            local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
            found.append(local.astimezone(ZoneInfo("UTC")))
        day += timedelta(days=step)
    return sorted(found)


def _published(
    session: Session,
    settings: Settings,
    principal: Principal,
    spec: DemoPersona,
    persona: Persona,
    platforms: list[str],
    now: datetime,
) -> list[Publication]:
    """The last four weeks: written, approved, scheduled and published (as the engine records a
    success, with a demo id and no link: nothing exists at the platform)."""
    out: list[Publication] = []
    for body, at in zip(
        spec.published, _times(spec, now, len(spec.published), past=True), strict=True
    ):
        post = posts.create(
            session, principal, persona_id=persona.id, body=body, platforms=platforms
        ).post
        posts.submit(session, principal, post.id)
        posts.approve(session, principal, post.id)
        made = publishing.schedule(
            session, principal, settings, post.id, at=at, now=at - timedelta(days=1)
        )
        for offset, publication in enumerate(made):
            publication.state = PublicationState.published.value
            publication.attempts = 1
            publication.sent_at = at + timedelta(seconds=offset)
            publication.published_at = at + timedelta(seconds=offset + 1)
            publication.external_id = f"demo-{publication.id.hex[:16]}"
        sync_post_status(session, post)
        _backdate(post, at - timedelta(days=2))
        out += made
    session.flush()
    return out


def _backdate(post: Post, written: datetime) -> None:
    post.created_at = written
    post.submitted_at = written + timedelta(hours=3)
    post.approved_at = written + timedelta(hours=20)


def _metrics(
    session: Session,
    spec: DemoPersona,
    published: list[Publication],
    now: datetime,
    rng: random.Random,
) -> int:
    """Metric history of each publication, as the sync would have read it; its sync schedule
    is finished, so nothing is ever read from the platform."""
    zone = ZoneInfo(spec.timezone)
    main_hour = spec.slot_hours[0][0]
    readings = 0
    for publication in published:
        assert publication.published_at is not None
        fields = set(METRICS_FIELDS.get(publication.platform, ()))
        schedule = MetricsSchedule(
            workspace_id=publication.workspace_id,
            publication_id=publication.id,
            connection_id=publication.connection_id,
            platform=publication.platform,
            published_at=publication.published_at,
            stopped_at=now,
        )
        if not fields:
            schedule.stopped_reason = "unsupported"
            schedule.stopped_note = "This network reports no metrics."
            session.add(schedule)
            continue
        on_slot = publication.published_at.astimezone(zone).hour == main_hour
        reach = {"linkedin": 2400, "x": 1500, "bluesky": 900}.get(publication.platform, 800)
        size = reach * (1.35 if on_slot else 0.75) * rng.uniform(0.55, 1.6)
        final = {
            "impressions": size,
            "likes": size * rng.uniform(0.025, 0.05),
            "reposts": size * rng.uniform(0.003, 0.01),
            "replies": size * rng.uniform(0.002, 0.008),
            "quotes": size * rng.uniform(0.0005, 0.002),
        }
        stage = 0
        for stage, (hours, share) in enumerate(READINGS, start=1):
            taken = publication.published_at + timedelta(hours=hours)
            if taken > now:
                stage -= 1
                break
            figures = {
                name: round(value * share) if name in fields else None
                for name, value in final.items()
            }
            session.add(
                MetricSnapshot(
                    workspace_id=publication.workspace_id,
                    publication_id=publication.id,
                    taken_at=taken,
                    stage=stage,
                    **figures,
                )
            )
            readings += 1
            schedule.last_synced_at = taken
        schedule.stage = stage
        schedule.stopped_reason = "finished"
        schedule.stopped_note = "Demo workspace: these figures were made up by digipersona demo."
        session.add(schedule)
    session.flush()
    return readings


def _scheduled(
    session: Session,
    settings: Settings,
    principal: Principal,
    spec: DemoPersona,
    persona: Persona,
    platforms: list[str],
    now: datetime,
) -> int:
    times = _times(spec, now, len(spec.scheduled), past=False)
    for body, at in zip(spec.scheduled, times, strict=True):
        post = posts.create(
            session, principal, persona_id=persona.id, body=body, platforms=platforms
        ).post
        posts.submit(session, principal, post.id)
        posts.approve(session, principal, post.id)
        publishing.schedule(session, principal, settings, post.id, at=at, now=now)
        _backdate(post, now - timedelta(days=1))
    return len(spec.scheduled)


def _in_review(
    session: Session,
    principal: Principal,
    spec: DemoPersona,
    persona: Persona,
    platforms: list[str],
    now: datetime,
) -> int:
    """Posts waiting for approval; the persona with four networks also has one whose X text
    was shortened by hand (one text on three networks, another on X)."""
    made = 0
    for hours, body in enumerate(spec.in_review, start=1):
        post = posts.create(
            session, principal, persona_id=persona.id, body=body, platforms=platforms
        ).post
        posts.submit(session, principal, post.id)
        post.created_at = post.submitted_at = now - timedelta(hours=3 * hours)
        made += 1
    if len(platforms) >= 4:
        post = posts.create(
            session, principal, persona_id=persona.id, body=SHARED_POST, platforms=platforms
        ).post
        posts.set_variant_parts(session, principal, post.id, "x", [SHARED_POST_X], None)
        posts.submit(session, principal, post.id)
        made += 1
    return made


def _comments(
    session: Session,
    spec: DemoPersona,
    persona: Persona,
    connections: list[Connection],
    published: list[Publication],
    now: datetime,
    rng: random.Random,
) -> tuple[list[tuple[uuid.UUID, str]], int]:
    """The comments, replies and mentions of ``content.py``, scored as leads by the inbox's own
    rules; returns those to draft a reply to, and how many are leads."""
    by_platform = {c.platform: c for c in connections}
    rows: list[dict[str, Any]] = []
    answers: dict[str, str] = {}
    for number, comment in enumerate(spec.comments):
        connection = by_platform[comment.platform]
        on = [p for p in published if p.platform == comment.platform]
        subject = on[-1 - number % min(len(on), 3)] if on and comment.kind != "mention" else None
        verdict = score_lead(comment.text, comment.author_name, comment.author_bio)
        external_id = f"demo-{comment.platform}-{rng.getrandbits(48):012x}"
        when = now - timedelta(hours=rng.randint(2, 96), minutes=rng.randint(0, 59))
        row_id = uuid.uuid4()
        rows.append(
            {
                "id": row_id,
                "workspace_id": persona.workspace_id,
                "persona_id": persona.id,
                "connection_id": connection.id,
                "platform": comment.platform,
                "external_id": external_id,
                "kind": comment.kind,
                "text": comment.text,
                "author_id": f"demo:{comment.author_handle}",
                "author_handle": comment.author_handle,
                "author_name": comment.author_name,
                "author_bio": comment.author_bio,
                "url": None,
                "platform_created_at": when,
                "received_at": when + timedelta(minutes=5),
                "publication_id": subject.id if subject is not None else None,
                "subject_external_id": subject.external_id if subject is not None else None,
                "reply_target": {"parent_id": external_id, "root_id": external_id, "extra": {}},
                "lead_score": verdict.score,
                "lead_reasons": list(verdict.reasons),
                "is_lead": verdict.is_lead,
                "status": "new",
                "created_at": when,
                "updated_at": when,
            }
        )
        if comment.reply:
            answers[external_id] = comment.reply
    InteractionRepository(session).insert_new(rows)
    to_answer = [
        (row["id"], answers[row["external_id"]]) for row in rows if row["external_id"] in answers
    ]
    return to_answer, sum(1 for row in rows if row["is_lead"])


def _autopilot(
    session: Session,
    principal: Principal,
    spec: DemoPersona,
    persona: Persona,
    platforms: list[str],
    now: datetime,
    rng: random.Random,
) -> int:
    """A weekly drafting rule (to review) and a month of its runs."""
    rule = autopilot.create_rule(
        session,
        principal,
        persona.id,
        RuleCreate(
            name="Weekly ideas",
            rrule="FREQ=WEEKLY;BYDAY=MO;BYHOUR=7;BYMINUTE=0",
            count=2,
            platforms=platforms,
            topics=spec.topics[:3],
            brief=spec.rule_brief,
        ),
        now=now,
    )
    runs = RunRepository(session)
    for weeks in range(4, 0, -1):
        started = now - timedelta(weeks=weeks, hours=rng.randint(0, 5))
        nothing = weeks == 2
        runs.add(
            AutopilotRun(
                workspace_id=persona.workspace_id,
                persona_id=persona.id,
                rule_id=rule.id,
                source="rule",
                status="nothing" if nothing else "generated",
                started_at=started,
                finished_at=started + timedelta(seconds=rng.randint(2, 9)),
                reason="The queue already held enough posts for the week." if nothing else None,
                details={"demo": True, "drafts": 0 if nothing else 2},
            )
        )
    rule.last_run_at = now - timedelta(weeks=1)
    return 4
