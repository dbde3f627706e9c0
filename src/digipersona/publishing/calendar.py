"""The calendar: bounded range queries over publications, and the secret iCalendar feed.

A view never reads a whole range: the overview of up to six weeks returns per-day counts and the
first few entries of each day in one query, and the rest of one day is read on demand, a page at
a time (keyset on ``(scheduled_at, id)``). Entries are Core rows of the columns a view shows.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, literal_column, or_, select
from sqlalchemy.orm import Session

from digipersona.auth.principal import Principal
from digipersona.exceptions import NotFound, ValidationFailed
from digipersona.kit import security
from digipersona.kit.time import ensure_utc
from digipersona.models import Heartbeat, Persona, Post, Publication, Workspace
from digipersona.models.publication import PublicationState
from digipersona.scheduling.ical import CalendarEvent, build_calendar

FEED_PREFIX = "dp_ical_"
MAX_DAYS = 42  # six weeks: a month view with its leading and trailing days
# A 42-day view in local time is longer than 42 * 24 h by its DST shift (at most 2 h anywhere).
_DST_SLACK = timedelta(hours=3)
MAX_PER_DAY = 50
DAY_PAGE = 50
STATES = tuple(s.value for s in PublicationState)
# The title is the body's first line cut at 80 characters: reading a prefix is enough.
_TITLE_READ = 400
# The post on hover: a whole short post, the start of a long one (a month page stays small).
_EXCERPT = 280
# The iCalendar feed: a window around now and a row cap, so its size never grows with history.
FEED_DAYS_BACK = 90
FEED_DAYS_AHEAD = 365
FEED_MAX_PAST = 250
FEED_MAX_UPCOMING = 750
_FEED_DESCRIPTION = 1000


@dataclass(frozen=True, slots=True)
class Entry:
    """One publication as the calendar shows it."""

    id: uuid.UUID
    post_id: uuid.UUID
    connection_id: uuid.UUID
    persona_id: uuid.UUID
    persona_name: str
    persona_colour: str | None
    platform: str
    scheduled_at: datetime
    slot_at: datetime | None
    next_attempt_at: datetime
    state: str
    post_status: str
    title: str
    # The body's first ``_TITLE_READ`` characters: the full post, or most of it, on hover.
    excerpt: str
    attempts: int
    external_id: str | None
    external_url: str | None
    error_class: str | None
    published_at: datetime | None

    @property
    def movable(self) -> bool:
        """Drag and drop moves only publications that have not started."""
        return self.state in ("scheduled", "held")

    @property
    def cursor(self) -> str:
        """The keyset cursor of the entries after this one (opaque to clients)."""
        return encode_cursor(self.scheduled_at, self.id)


@dataclass(frozen=True, slots=True)
class Day:
    """One local day of a view: how many entries it has and the first ones."""

    date: date
    count: int
    entries: list[Entry]
    # How many posts (a post on three networks is one): what "+N more" counts.
    posts: int = 0
    # On a later page of a day: the post of the entry just before the page (its other networks
    # may open this page; it was counted as shown already).
    continued_post: uuid.UUID | None = None

    @property
    def more(self) -> int:
        """The posts of the day not shown at all (a post on 3 networks is one, not 3)."""
        return max(0, self.posts - self.shown_posts)

    @property
    def items(self) -> list[Item]:
        return group_entries(self.entries)

    @property
    def shown_posts(self) -> int:
        """The posts this page shows first (not one already begun on the page before)."""
        return len({entry.post_id for entry in self.entries} - {self.continued_post})

    @property
    def next_cursor(self) -> str | None:
        return self.entries[-1].cursor if self.count > len(self.entries) and self.entries else None


@dataclass(frozen=True, slots=True)
class Item:
    """One post at one time in a calendar cell: its publications on every platform together."""

    first: Entry
    entries: tuple[Entry, ...]

    @property
    def platforms(self) -> list[str]:
        return [entry.platform for entry in self.entries]

    @property
    def states(self) -> list[str]:
        return list(dict.fromkeys(entry.state for entry in self.entries))

    @property
    def movable(self) -> bool:
        return all(entry.movable for entry in self.entries)


def group_entries(entries: list[Entry]) -> list[Item]:
    """A day's entries, one item per post and time (in the entries' order)."""
    groups: dict[tuple[uuid.UUID, datetime], list[Entry]] = {}
    for entry in entries:
        groups.setdefault((entry.post_id, entry.scheduled_at), []).append(entry)
    return [Item(first=group[0], entries=tuple(group)) for group in groups.values()]


def excerpt_of(head: str) -> str:
    """What the calendar shows on hover: the post, cut at ``_EXCERPT`` characters."""
    text = head.strip()
    return text[:_EXCERPT] + ("…" if len(text) > _EXCERPT else "")


def title_of(body: str) -> str:
    """The body's first non-empty line, cut at 80 characters."""
    text = body.strip()
    first = text.splitlines()[0] if text else "(empty)"
    return first[:80] + ("…" if len(first) > 80 else "")


def encode_cursor(at: datetime, id_: uuid.UUID) -> str:
    raw = json.dumps([ensure_utc(at).isoformat(), id_.hex]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The (scheduled_at, id) a cursor stands for; anything else is a 422."""
    try:
        if len(cursor) > 200:
            raise ValueError
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at_text, id_text = json.loads(raw)
        at = datetime.fromisoformat(at_text)
        if at.tzinfo is None:
            raise ValueError
        return ensure_utc(at), uuid.UUID(hex=id_text)
    except (ValueError, TypeError, binascii.Error):  # JSONDecodeError and UnicodeError too
        raise ValidationFailed(
            "Invalid cursor: pass back the next_cursor of a previous answer unchanged."
        ) from None


def check_state(state: str | None) -> str | None:
    if state and state not in STATES:
        raise ValidationFailed(f"Unknown state {state!r}: use one of {', '.join(STATES)}.")
    return state or None


def day_buckets(
    start: datetime, end: datetime, tz: ZoneInfo
) -> list[tuple[date, datetime, datetime]]:
    """[start, end) cut at the local midnights of ``tz``: (local date, UTC from, UTC to) per day."""
    start, end = ensure_utc(start), ensure_utc(end)
    if end <= start:
        raise ValidationFailed("'end' must be after 'start'.")
    if end - start > timedelta(days=MAX_DAYS) + _DST_SLACK:
        raise ValidationFailed(
            f"Ask for at most {MAX_DAYS} days at a time (six weeks, one month view); "
            "read a longer period in several calls."
        )
    out: list[tuple[date, datetime, datetime]] = []
    lo = start
    while lo < end:
        local_day = lo.astimezone(tz).date()
        midnight = datetime.combine(local_day + timedelta(days=1), time(), tz).astimezone(UTC)
        # A midnight that does not exist (DST at 00:00) still lies after ``lo``; guard anyway.
        hi = min(midnight if midnight > lo else lo + timedelta(days=1), end)
        out.append((local_day, lo, hi))
        lo = hi
    return out


def _entry_columns() -> tuple[Any, ...]:
    return (
        Publication.id,
        Publication.post_id,
        Publication.connection_id,
        Persona.id.label("persona_id"),
        Persona.name.label("persona_name"),
        Persona.colour.label("persona_colour"),
        Publication.platform,
        Publication.scheduled_at,
        Publication.slot_at,
        Publication.next_attempt_at,
        Publication.state,
        Post.status.label("post_status"),
        func.substr(Post.body, 1, _TITLE_READ).label("body_head"),
        Publication.attempts,
        Publication.external_id,
        Publication.external_url,
        Publication.error_class,
        Publication.published_at,
    )


def _entry(row: Any) -> Entry:
    return Entry(
        id=row.id,
        post_id=row.post_id,
        connection_id=row.connection_id,
        persona_id=row.persona_id,
        persona_name=row.persona_name,
        persona_colour=row.persona_colour,
        platform=row.platform,
        scheduled_at=row.scheduled_at,
        slot_at=row.slot_at,
        next_attempt_at=row.next_attempt_at,
        state=row.state,
        post_status=row.post_status,
        title=title_of(row.body_head or ""),
        excerpt=excerpt_of(row.body_head or ""),
        attempts=row.attempts,
        external_id=row.external_id,
        external_url=row.external_url,
        error_class=row.error_class,
        published_at=row.published_at,
    )


def _filtered(
    stmt: Select[Any],
    workspace_id: uuid.UUID,
    start: datetime,
    end: datetime,
    persona_id: uuid.UUID | None,
    state: str | None,
    *,
    joined_post: bool,
) -> Select[Any]:
    stmt = stmt.where(
        Publication.workspace_id == workspace_id,
        Publication.scheduled_at >= start,
        Publication.scheduled_at < end,
    )
    if state:
        stmt = stmt.where(Publication.state == state)
    if persona_id is not None:
        if not joined_post:
            stmt = stmt.join(Post, Post.id == Publication.post_id)
        stmt = stmt.where(Post.persona_id == persona_id)
    return stmt


def overview(
    session: Session,
    workspace_id: uuid.UUID,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    *,
    per_day: int,
    persona_id: uuid.UUID | None = None,
    state: str | None = None,
) -> list[Day]:
    """Each local day of [start, end) with its count and its first ``per_day`` entries.

    One query: the publications of the range are numbered within their day (a window function
    over the ``(workspace_id, scheduled_at)`` index) and only the first ``per_day`` of each day
    are joined to their post and persona.
    """
    if not 1 <= per_day <= MAX_PER_DAY:
        raise ValidationFailed(f"'per_day' must be between 1 and {MAX_PER_DAY}.")
    state = check_state(state)
    buckets = day_buckets(start, end, tz)
    # THEN values are literals: PostgreSQL cannot infer the type of a bare parameter there.
    bucket = case(
        *[
            (Publication.scheduled_at < hi, literal_column(str(i)))
            for i, (_, _, hi) in enumerate(buckets[:-1])
        ],
        else_=literal_column(str(len(buckets) - 1)),
    )
    order = (Publication.scheduled_at, Publication.id)
    ranked = _filtered(
        select(
            Publication.id.label("pid"),
            bucket.label("bucket"),
            func.row_number().over(partition_by=bucket, order_by=order).label("rn"),
            func.count().over(partition_by=bucket).label("n"),
            # The posts of a day: the last dense rank over post ids is how many there are.
            func.dense_rank()
            .over(partition_by=bucket, order_by=Publication.post_id)
            .label("post_rank"),
        ),
        workspace_id,
        buckets[0][1],
        buckets[-1][2],
        persona_id,
        state,
        joined_post=False,
    ).subquery("ranked")
    posts = (
        select(
            ranked.c.pid,
            ranked.c.bucket,
            ranked.c.rn,
            ranked.c.n,
            func.max(ranked.c.post_rank).over(partition_by=ranked.c.bucket).label("posts"),
        )
    ).subquery("counted")
    stmt = (
        select(posts.c.bucket, posts.c.n, posts.c.posts, *_entry_columns())
        .select_from(posts)
        .join(Publication, Publication.id == posts.c.pid)
        .join(Post, Post.id == Publication.post_id)
        .join(Persona, Persona.id == Post.persona_id)
        .where(posts.c.rn <= per_day)
        .order_by(posts.c.bucket, posts.c.rn)
    )
    counts: dict[int, tuple[int, int]] = {}
    shown: dict[int, list[Entry]] = {}
    for row in session.execute(stmt):
        counts[row.bucket] = (row.n, row.posts)
        shown.setdefault(row.bucket, []).append(_entry(row))
    return [
        Day(
            date=day,
            count=counts.get(i, (0, 0))[0],
            entries=shown.get(i, []),
            posts=counts.get(i, (0, 0))[1],
        )
        for i, (day, _, _) in enumerate(buckets)
    ]


def day_page(
    session: Session,
    workspace_id: uuid.UUID,
    day: date,
    tz: ZoneInfo,
    *,
    limit: int = DAY_PAGE,
    cursor: str | None = None,
    persona_id: uuid.UUID | None = None,
    state: str | None = None,
) -> tuple[Day, str | None]:
    """One page of one local day's entries (keyset on scheduled_at, id) and the next cursor."""
    if not 1 <= limit <= MAX_PER_DAY * 4:
        raise ValidationFailed(f"'limit' must be between 1 and {MAX_PER_DAY * 4}.")
    state = check_state(state)
    try:
        lo = datetime.combine(day, time(), tz).astimezone(UTC)
        hi = datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)
    except OverflowError:
        raise ValidationFailed("Give a day between years 1 and 9999.") from None
    # The publications and the posts (a post on three networks is one) of the day.
    columns: tuple[Any, ...] = (
        func.count().label("n"),
        func.count(Publication.post_id.distinct()).label("posts"),
    )
    counted = select(*columns).select_from(Publication)
    totals = session.execute(
        _filtered(
            counted,
            workspace_id,
            lo,
            hi,
            persona_id,
            state,
            joined_post=False,
        )
    ).one()
    count, posts = totals.n, totals.posts
    stmt = _filtered(
        select(*_entry_columns())
        .select_from(Publication)
        .join(Post, Post.id == Publication.post_id)
        .join(Persona, Persona.id == Post.persona_id),
        workspace_id,
        lo,
        hi,
        persona_id,
        state,
        joined_post=True,
    )
    after: uuid.UUID | None = None
    if cursor:
        # From the cursor's own entry on (when it is still there): its post tells whether this
        # page begins with the other networks of a post the page before already showed.
        at, after = decode_cursor(cursor)
        stmt = stmt.where(
            or_(
                Publication.scheduled_at > at,
                and_(Publication.scheduled_at == at, Publication.id >= after),
            )
        )
    rows = [
        _entry(r)
        for r in session.execute(
            stmt.order_by(Publication.scheduled_at, Publication.id).limit(limit + 2)
        )
    ]
    previous = rows.pop(0) if rows and after is not None and rows[0].id == after else None
    page, extra = rows[:limit], rows[limit : limit + 1]
    return Day(
        date=day,
        count=int(count or 0),
        entries=page,
        posts=int(posts or 0),
        continued_post=previous.post_id if previous else None,
    ), (page[-1].cursor if extra else None)


@dataclass(frozen=True, slots=True)
class PersonaChoice:
    id: uuid.UUID
    name: str
    timezone: str


def persona_choices(
    session: Session, workspace_id: uuid.UUID, limit: int = 200
) -> list[PersonaChoice]:
    """The workspace's personas for a filter menu (by name, bounded)."""
    stmt = (
        select(Persona.id, Persona.name, Persona.timezone)
        .where(Persona.workspace_id == workspace_id)
        .order_by(Persona.name, Persona.id)
        .limit(limit)
    )
    return [PersonaChoice(r.id, r.name, r.timezone) for r in session.execute(stmt)]


def rotate_feed(session: Session, principal: Principal, base_url: str) -> str:
    """A new secret feed URL for the workspace; the old one stops working."""
    workspace = session.get(Workspace, principal.workspace_id)
    if workspace is None:
        raise NotFound("No such workspace.")
    token = security.new_token(FEED_PREFIX, 24)
    workspace.ical_token_hash = security.token_hash(token)
    session.flush()
    return f"{base_url.rstrip('/')}/ical/{token}.ics"


def feed_enabled(session: Session, principal: Principal) -> bool:
    workspace = session.get(Workspace, principal.workspace_id)
    return workspace is not None and workspace.ical_token_hash is not None


def revoke_feed(session: Session, principal: Principal) -> None:
    workspace = session.get(Workspace, principal.workspace_id)
    if workspace is not None:
        workspace.ical_token_hash = None
        session.flush()


def feed(session: Session, token: str, now: datetime) -> bytes:
    """The feed behind a secret token, bounded: see ``FEED_DAYS_BACK`` and the caps."""
    workspace = session.scalars(
        select(Workspace).where(Workspace.ical_token_hash == security.token_hash(token))
    ).first()
    if workspace is None:
        raise NotFound("This calendar feed does not exist or was revoked.")
    base = (
        select(
            Publication.id,
            Publication.scheduled_at,
            Publication.platform,
            Publication.state,
            Publication.external_url,
            Persona.name.label("persona_name"),
            func.substr(Post.body, 1, _FEED_DESCRIPTION + 1).label("body_head"),
        )
        .join(Post, Post.id == Publication.post_id)
        .join(Persona, Persona.id == Post.persona_id)
        .where(Publication.workspace_id == workspace.id)
    )
    # The soonest upcoming and the latest past ones: a busy history never pushes out the future.
    upcoming = base.where(
        Publication.scheduled_at >= now,
        Publication.scheduled_at < now + timedelta(days=FEED_DAYS_AHEAD),
    ).order_by(Publication.scheduled_at, Publication.id)
    past = base.where(
        Publication.scheduled_at >= now - timedelta(days=FEED_DAYS_BACK),
        Publication.scheduled_at < now,
    ).order_by(Publication.scheduled_at.desc(), Publication.id.desc())
    rows = [
        *reversed(session.execute(past.limit(FEED_MAX_PAST)).all()),
        *session.execute(upcoming.limit(FEED_MAX_UPCOMING)).all(),
    ]
    events = []
    for row in rows:
        body = row.body_head or ""
        if len(body) > _FEED_DESCRIPTION:
            body = body[:_FEED_DESCRIPTION] + "…"
        events.append(
            CalendarEvent(
                uid=f"{row.id}@digipersona",
                start=row.scheduled_at,
                summary=f"[{row.persona_name} · {row.platform}] {title_of(body)}",
                description=f"State: {row.state}\n\n{body}",
                url=row.external_url,
                state=row.state,
            )
        )
    return build_calendar(f"digipersona: {workspace.name}", events)


# The Jobs page: at most this many live processes, and the latest stopped ones of the last day.
ALIVE_SHOWN = 50
GONE_SHOWN = 5
GONE_WINDOW = timedelta(hours=24)


def jobs_summary(
    session: Session, workspace_id: uuid.UUID, now: datetime, stale_seconds: int
) -> dict[str, Any]:
    """Queue depth by state, what is due, failures by class and process heartbeats."""
    by_state = dict(
        session.execute(
            select(Publication.state, func.count())
            .where(Publication.workspace_id == workspace_id)
            .group_by(Publication.state)
        ).all()
    )
    due = select(Publication).where(
        Publication.workspace_id == workspace_id,
        Publication.state.in_(["scheduled", "unknown"]),
        Publication.next_attempt_at <= now,
    )
    due_now = session.scalar(select(func.count()).select_from(due.subquery())) or 0
    oldest = session.scalar(
        select(func.min(Publication.next_attempt_at)).where(
            Publication.workspace_id == workspace_id,
            Publication.state.in_(["scheduled", "unknown"]),
        )
    )
    failures = dict(
        session.execute(
            select(Publication.error_class, func.count())
            .where(Publication.workspace_id == workspace_id, Publication.error_class.is_not(None))
            .group_by(Publication.error_class)
        ).all()
    )
    beats, hidden = processes(session, now, stale_seconds)
    healthy = scheduler_alive(session, now, stale_seconds)
    return {
        "by_state": {str(k): int(v) for k, v in by_state.items()},
        "due_now": int(due_now),
        "oldest_due_at": ensure_utc(oldest).isoformat() if oldest else None,
        "failures_by_class": {str(k): int(v) for k, v in failures.items()},
        "heartbeats": beats,
        "processes_not_shown": hidden,
        "scheduler_healthy": healthy,
    }


def processes(
    session: Session, now: datetime, stale_seconds: int
) -> tuple[list[dict[str, Any]], int]:
    """The processes that beat recently (alive), then the latest ``GONE_SHOWN`` that stopped
    within ``GONE_WINDOW``, each with its age; and how many stopped ones are left out.

    Every ``serve``, helper and scheduler start beats under a new name, so without a bound
    the page would list every process that ever ran.
    """
    fresh = now - timedelta(seconds=stale_seconds)

    def rows(*where: Any, limit: int) -> list[Heartbeat]:
        query = select(Heartbeat).where(*where).order_by(Heartbeat.beat_at.desc())
        return list(session.scalars(query.limit(limit)))

    alive = rows(Heartbeat.beat_at >= fresh, limit=ALIVE_SHOWN)
    gone = rows(Heartbeat.beat_at < fresh, Heartbeat.beat_at >= now - GONE_WINDOW, limit=GONE_SHOWN)
    all_gone = session.scalar(
        select(func.count()).select_from(Heartbeat).where(Heartbeat.beat_at < fresh)
    )
    out = [_process(b, now, alive=True) for b in alive]
    out += [_process(b, now, alive=False) for b in gone]
    return out, int(all_gone or 0) - len(gone)


def _process(beat: Heartbeat, now: datetime, *, alive: bool) -> dict[str, Any]:
    at = ensure_utc(beat.beat_at)
    return {
        "name": beat.name,
        "kind": beat.kind,
        "beat_at": at.isoformat(),
        "alive": alive,
        "age_seconds": max(0, int((now - at).total_seconds())),
    }


def scheduler_alive(session: Session, now: datetime, stale_seconds: int) -> bool:
    last = session.scalar(select(func.max(Heartbeat.beat_at)).where(Heartbeat.kind == "scheduler"))
    return last is not None and now - ensure_utc(last) <= timedelta(seconds=stale_seconds)
