"""The workspace that ``api_bench.py`` measures, seeded through the product's own tables.

One user (created by the service behind ``digipersona users create``, so the password hash and
the workspace are the product's own), 6 personas with 2 connections each (12), and N posts spread over 3 years
(about 2 years 9 months back, 3 months ahead):

- about 96 % have one publication on one of their persona's connections: in the past mostly
  published (97 %; 2 % failed, 1 % missed), ahead scheduled; the post's status follows it
- the rest have none: drafts, in review, approved, rejected and cancelled posts
- nothing is due while a benchmark runs: no publication is scheduled between a day before the
  seed and two days after it (posts there are drafts or wait for approval), every metrics
  schedule and interactions poll is set to later, so ``serve``'s embedded worker never calls a
  platform (a seed older than ``MAX_AGE`` is rebuilt)
- one variant per post (its platform), metric snapshots at the product's decaying schedule
  (``analytics.repository.OFFSETS``: up to 5 per published publication) with a metrics
  schedule row each, and 0.3 x N interactions (70 % replies to a publication)

Rows are written with SQLAlchemy Core ``executemany`` in chunks, not through the API.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import shutil
import sys
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import Engine, Table, create_engine, insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digipersona import db  # noqa: E402
from digipersona.analytics.repository import OFFSETS  # noqa: E402
from digipersona.auth import service as auth  # noqa: E402
from digipersona.config import Settings  # noqa: E402
from digipersona.kit.crypto import TokenCipher  # noqa: E402
from digipersona.kit.time import utcnow  # noqa: E402
from digipersona.models import (  # noqa: E402
    Connection,
    Interaction,
    InteractionPoll,
    MetricSnapshot,
    MetricsSchedule,
    Persona,
    Post,
    Publication,
    Variant,
)
from digipersona.publishing import summary  # noqa: E402

SEED_VERSION = 1
MAX_AGE = timedelta(hours=20)
PAST = timedelta(days=3 * 365 - 92)
FUTURE = timedelta(days=92)
QUIET_BEFORE, QUIET_AFTER = timedelta(days=1), timedelta(days=2)
CHUNK = 10_000
PG_ADMIN = os.environ.get(
    "DIGIPERSONA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PERSONAS = [
    ("Ada Ops", "UTC", ("x", "linkedin")),
    ("Ben Builds", "Europe/Berlin", ("bluesky", "linkedin")),
    ("Cleo Cloud", "America/New_York", ("x", "bluesky")),
    ("Dev Diaries", "Asia/Tokyo", ("x", "linkedin")),
    ("Eve Explains", "Europe/London", ("bluesky", "linkedin")),
    ("Finn Fintech", "Australia/Sydney", ("x", "bluesky")),
]
OPENINGS = [
    "Shipping small changes often beats big launches",
    "Three things I learned running on-call this quarter",
    "Most dashboards answer questions nobody asked",
    "A slow test suite is a tax on every idea",
    "Write the runbook before the incident, not during it",
    "Caching is easy; invalidation is the whole job",
    "The best code review comment is a question",
    "Measure first, then optimise the thing you measured",
]
TAGS = ["ops", "devex", "cloud", "testing", "career", "security", "data", "product"]


@dataclass
class Seeded:
    """What a run needs to know about a seeded workspace (kept beside a cached template)."""

    email: str
    password: str
    secret_key: str
    encryption_key: str
    seeded_at: str
    posts: int
    publications: int
    interactions: int
    snapshots: int
    persona_ids: list[str]
    some_post_id: str
    seed_seconds: float


def product_env(data_dir: Path, url: str, secret: str, key: str, **extra: str) -> dict[str, str]:
    """The environment ``digipersona`` runs with: only our DIGIPERSONA_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGIPERSONA_")}
    env.update(
        DIGIPERSONA_DATA_DIR=str(data_dir),
        DIGIPERSONA_DATABASE_URL=url,
        DIGIPERSONA_SECRET_KEY=secret,
        DIGIPERSONA_ENCRYPTION_KEYS=key,
        DIGIPERSONA_HOST="127.0.0.1",
    )
    env.update(extra)
    return env


def digipersona_exe() -> str:
    """The console script of the interpreter running the benchmark (the project's venv)."""
    beside = Path(sys.executable).parent / "digipersona"
    found = str(beside) if beside.exists() else shutil.which("digipersona")
    if not found:
        raise SystemExit("the digipersona command is not installed: pip install -e .")
    return found


def seed(url: str, n: int, work: Path) -> Seeded:
    """Create the user with the CLI, then bulk-insert the workspace into ``url`` (migrated)."""
    started = utcnow()
    rng = random.Random(16)
    meta = Seeded(
        email="bench@example.com",
        password=secrets.token_urlsafe(18),
        secret_key=secrets.token_urlsafe(48),
        encryption_key=Fernet.generate_key().decode(),
        seeded_at=started.isoformat(),
        posts=n,
        publications=0,
        interactions=0,
        snapshots=0,
        persona_ids=[],
        some_post_id="",
        seed_seconds=0.0,
    )
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        # What `digipersona users create` does (its service, in this process: a CLI start-up
        # costs seconds that the quick smoke run cannot spare).
        settings = Settings(
            data_dir=work,
            database_url=url,
            secret_key=meta.secret_key,
            encryption_keys=meta.encryption_key,
            registration="open",
        )
        with db.session_scope(db.make_sessionmaker(engine)) as session:
            user, workspace, _ = auth.register(
                session,
                settings,
                email=meta.email,
                password=meta.password,
                workspace_name="Bench agency",
            )
            user_id, ws = user.id, workspace.id
        _seed_rows(engine, meta, rng, user_id, ws, n, started)
        # The daily analytics summary the engine and the metrics sync keep as they record.
        with db.session_scope(db.make_sessionmaker(engine)) as session:
            summary.rebuild(session, ws)
        if engine.dialect.name == "postgresql":
            # A long-lived database has been analysed by autovacuum; a fresh bulk load has not.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        else:
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    meta.seed_seconds = (utcnow() - started).total_seconds()
    return meta


def _insert(engine: Engine, table: Table, rows: Iterator[dict[str, Any]]) -> int:
    """Insert ``rows`` in chunks of CHUNK, one transaction each (executemany)."""
    count = 0
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            with engine.begin() as conn:
                conn.execute(insert(table), chunk)
            count += len(chunk)
            chunk = []
    if chunk:
        with engine.begin() as conn:
            conn.execute(insert(table), chunk)
        count += len(chunk)
    return count


def _seed_rows(
    engine: Engine,
    meta: Seeded,
    rng: random.Random,
    user_id: uuid.UUID,
    ws: uuid.UUID,
    n: int,
    now: datetime,
) -> None:
    cipher = TokenCipher([meta.encryption_key])
    personas: list[dict[str, Any]] = []
    connections: list[dict[str, Any]] = []
    for name, tz, platforms in PERSONAS:
        pid = uuid.uuid4()
        personas.append(
            {
                "id": pid,
                "workspace_id": ws,
                "name": name,
                "bio": f"{name} writes about software teams.",
                "voice": "Plain, concrete, a little dry.",
                "topics": rng.sample(TAGS, 3),
                "timezone": tz,
                "approval_policy": "require_approval",
                "created_at": now - PAST,
                "updated_at": now - PAST,
            }
        )
        for platform in platforms:
            handle = f"{name.split()[0].lower()}.{platform}"
            connections.append(
                {
                    "id": uuid.uuid4(),
                    "workspace_id": ws,
                    "persona_id": pid,
                    "platform": platform,
                    "account_id": f"acct-{handle}",
                    "handle": handle,
                    "display_name": name,
                    "access_token_enc": cipher.encrypt(f"bench-token-{handle}"),
                    "scopes": ["read", "write"],
                    "extra": {"did": f"did:plc:{handle}"} if platform == "bluesky" else {},
                    "created_at": now - PAST,
                    "updated_at": now - PAST,
                }
            )
    _insert(engine, Persona.__table__, iter(personas))  # type: ignore[arg-type]
    _insert(engine, Connection.__table__, iter(connections))  # type: ignore[arg-type]
    _insert(
        engine,
        InteractionPoll.__table__,  # type: ignore[arg-type]
        (
            {
                "connection_id": c["id"],
                "workspace_id": ws,
                "platform": c["platform"],
                "next_poll_at": now + timedelta(days=30),
                "last_polled_at": now - timedelta(minutes=5),
                "token_version": 1,
                "created_at": now - PAST,
                "updated_at": now,
            }
            for c in connections
        ),
    )
    meta.persona_ids = [str(p["id"]) for p in personas]
    by_persona = {p["id"]: [c for c in connections if c["persona_id"] == p["id"]] for p in personas}

    # Posts in time order; each gets its publication (if any) decided here, so the three
    # tables are written from one pass.
    start = now - PAST
    span = PAST + FUTURE
    plan: list[tuple[uuid.UUID, dict[str, Any], dict[str, Any] | None, datetime, str]] = []
    published: list[tuple[uuid.UUID, dict[str, Any], datetime]] = []
    for i in range(n):
        at = start + span * ((i + rng.random()) / n)
        at = at.replace(second=0, microsecond=0)
        persona = personas[rng.randrange(len(personas))]
        conn = rng.choice(by_persona[persona["id"]])
        quiet = now - QUIET_BEFORE <= at <= now + QUIET_AFTER
        r = rng.random()
        pub_state: str | None = None
        if quiet or r < 0.04:
            status = rng.choices(
                ["draft", "in_review", "approved", "rejected", "cancelled"],
                [0.375, 0.125, 0.125, 0.125, 0.25] if not quiet else [0.3, 0.5, 0.2, 0, 0],
            )[0]
        elif at > now:
            status = pub_state = "scheduled"
        else:
            status = pub_state = rng.choices(["published", "failed", "missed"], [97, 2, 1])[0]
        pid = uuid.uuid4()
        pub = None
        if pub_state is not None:
            pub = _publication(rng, ws, pid, conn, at, pub_state, i)
            if pub_state == "published":
                published.append((pub["id"], conn, pub["published_at"]))
        plan.append((pid, persona, pub, at, status))
        if not meta.some_post_id and status == "published":
            meta.some_post_id = str(pid)

    def post_rows() -> Iterator[dict[str, Any]]:
        for index, (pid, persona, pub, at, status) in enumerate(plan):
            body = (
                f"{OPENINGS[index % len(OPENINGS)]}: notes from week {index % 52 + 1} "
                f"of {persona['name']}'s log, entry {index}."
            )
            platform = pub["platform"] if pub else by_persona[persona["id"]][0]["platform"]
            done = status in ("published", "failed", "missed", "scheduled", "approved")
            yield {
                "id": pid,
                "workspace_id": ws,
                "persona_id": persona["id"],
                "brief": "",
                "body": body,
                "status": status,
                "platforms": [platform],
                "tags": rng.sample(TAGS, 2),
                "priority": 0,
                "version": 1,
                "provider": "template" if index % 2 else None,
                "topic": persona["topics"][index % 3],
                "created_by_id": user_id,
                "approved_by_id": user_id if done else None,
                "submitted_at": at - timedelta(days=2) if status != "draft" else None,
                "approved_at": at - timedelta(days=1) if done else None,
                "rejection_reason": "Off topic." if status == "rejected" else None,
                "created_at": at - timedelta(days=3),
                "updated_at": min(at, now),
            }

    def variant_rows() -> Iterator[dict[str, Any]]:
        # Bodies are ASCII without links or tags: one part, its length is its length on every
        # platform (what refresh_variants would store, without its cost per row).
        for index, (pid, persona, pub, _at, _status) in enumerate(plan):
            body = (
                f"{OPENINGS[index % len(OPENINGS)]}: notes from week {index % 52 + 1} "
                f"of {persona['name']}'s log, entry {index}."
            )
            yield {
                "id": uuid.uuid4(),
                "workspace_id": ws,
                "post_id": pid,
                "platform": pub["platform"] if pub else by_persona[persona["id"]][0]["platform"],
                "parts": [body],
                "lengths": [len(body)],
                "valid": True,
                "problems": [],
                "custom": False,
                "created_at": now,
                "updated_at": now,
            }

    _insert(engine, Post.__table__, post_rows())  # type: ignore[arg-type]
    _insert(engine, Variant.__table__, variant_rows())  # type: ignore[arg-type]
    meta.publications = _insert(
        engine,
        Publication.__table__,  # type: ignore[arg-type]
        (pub for _pid, _persona, pub, _at, _status in plan if pub is not None),
    )
    plan.clear()
    meta.snapshots = _seed_metrics(engine, rng, ws, published, now)
    meta.interactions = _seed_interactions(engine, rng, ws, published, connections, n, now)


def _publication(
    rng: random.Random,
    ws: uuid.UUID,
    post_id: uuid.UUID,
    conn: dict[str, Any],
    at: datetime,
    state: str,
    index: int,
) -> dict[str, Any]:
    platform = conn["platform"]
    done = state != "scheduled"
    external = f"{platform}-{index}" if state == "published" else None
    errors = []
    if state == "failed":
        errors = [{"at": at.isoformat(), "class": "Permanent", "message": "Rejected by platform"}]
    return {
        "id": uuid.uuid4(),
        "workspace_id": ws,
        "post_id": post_id,
        "connection_id": conn["id"],
        "platform": platform,
        "scheduled_at": at,
        "slot_at": at,
        "priority": 0,
        "state": state,
        "attempts": 1 if done else 0,
        "next_attempt_at": at,
        "idempotency_key": uuid.uuid4().hex,
        "external_id": external,
        "external_url": f"https://{platform}.example/{conn['handle']}/{external}"
        if external
        else None,
        "parts_published": [{"index": 0, "external_id": external, "url": None, "extra": {}}]
        if external
        else [],
        "reconcile": False,
        "last_error": errors[0]["message"]
        if errors
        else ("Its window passed while it waited." if state == "missed" else None),
        "error_class": "Permanent" if errors else None,
        "errors": errors,
        "published_at": at + timedelta(seconds=rng.randint(1, 20)) if external else None,
        "sent_at": at + timedelta(seconds=1) if state in ("published", "failed") else None,
        "lease_owner": None,
        "lease_expires_at": None,
        "created_at": at - timedelta(days=1),
        "updated_at": at if done else at - timedelta(days=1),
    }


def _seed_metrics(
    engine: Engine,
    rng: random.Random,
    ws: uuid.UUID,
    published: list[tuple[uuid.UUID, dict[str, Any], datetime]],
    now: datetime,
) -> int:
    later = now + QUIET_AFTER  # nothing due while the benchmark runs

    def schedules() -> Iterator[dict[str, Any]]:
        for pub_id, conn, at in published:
            taken = sum(1 for o in OFFSETS if at + o <= now)
            finished = taken == len(OFFSETS)
            yield {
                "id": uuid.uuid4(),
                "workspace_id": ws,
                "publication_id": pub_id,
                "connection_id": conn["id"],
                "platform": conn["platform"],
                "published_at": at,
                "stage": taken,
                "next_sync_at": None if finished else later,
                "lease_expires_at": None,
                "last_synced_at": at + OFFSETS[taken - 1] if taken else None,
                "attempts": 0,
                "last_error": None,
                "stopped_reason": "finished" if finished else None,
                "stopped_note": None,
                "stopped_at": at + OFFSETS[-1] if finished else None,
                "created_at": at,
                "updated_at": at + OFFSETS[taken - 1] if taken else at,
            }

    def snapshots() -> Iterator[dict[str, Any]]:
        for pub_id, conn, at in published:
            reach = rng.lognormvariate(6, 1)
            for stage, offset in enumerate(OFFSETS):
                if at + offset > now:
                    break
                grown = reach * (0.3 + 0.7 * stage / (len(OFFSETS) - 1))
                yield {
                    "id": uuid.uuid4(),
                    "workspace_id": ws,
                    "publication_id": pub_id,
                    "taken_at": at + offset,
                    "stage": stage,
                    "likes": int(grown * 0.03),
                    "reposts": int(grown * 0.005),
                    "replies": int(grown * 0.004),
                    "quotes": int(grown * 0.001) if conn["platform"] != "linkedin" else None,
                    "impressions": int(grown) if conn["platform"] != "bluesky" else None,
                }

    _insert(engine, MetricsSchedule.__table__, schedules())  # type: ignore[arg-type]
    return _insert(engine, MetricSnapshot.__table__, snapshots())  # type: ignore[arg-type]


def _seed_interactions(
    engine: Engine,
    rng: random.Random,
    ws: uuid.UUID,
    published: list[tuple[uuid.UUID, dict[str, Any], datetime]],
    connections: list[dict[str, Any]],
    n: int,
    now: datetime,
) -> int:
    def rows() -> Iterator[dict[str, Any]]:
        for j in range(int(n * 0.3)):
            pub_id: uuid.UUID | None = None
            if published and rng.random() < 0.7:
                pub_id, conn, at = rng.choice(published)
                at = min(at + timedelta(minutes=rng.randint(5, 3 * 24 * 60)), now)
                kind = (
                    "comment" if conn["platform"] == "linkedin" else rng.choice(["reply", "quote"])
                )
            else:
                conn = rng.choice(connections)
                at = now - PAST * rng.random()
                kind = "mention"
            lead = rng.random() < 0.05
            recent = now - at < timedelta(days=14)
            author = rng.randrange(5000)
            yield {
                "id": uuid.uuid4(),
                "workspace_id": ws,
                "persona_id": conn["persona_id"],
                "connection_id": conn["id"],
                "platform": conn["platform"],
                "external_id": f"ext-{j}",
                "kind": kind,
                "text": "How do you handle this at scale? We are evaluating options for our team."
                if lead
                else "Great point, thanks for sharing.",
                "author_id": f"author-{author}",
                "author_handle": f"reader{author}",
                "author_name": f"Reader {author}",
                "author_bio": "Head of engineering" if lead else "",
                "url": f"https://{conn['platform']}.example/reader{author}/{j}",
                "platform_created_at": at,
                "received_at": at + timedelta(minutes=10),
                "publication_id": pub_id,
                "subject_external_id": None,
                "reply_target": {"parent_id": f"ext-{j}", "root_id": f"ext-{j}", "extra": {}},
                "lead_score": rng.randint(60, 95) if lead else rng.randint(0, 25),
                "lead_reasons": ["asks how to adopt it", "decision-maker title"] if lead else [],
                "is_lead": lead,
                "status": rng.choice(["new", "read"])
                if recent
                else rng.choices(["read", "replied", "ignored"], [6, 3, 1])[0],
                "reply_post_id": None,
                "created_at": at + timedelta(minutes=10),
                "updated_at": at + timedelta(minutes=10),
            }

    return _insert(engine, Interaction.__table__, rows())  # type: ignore[arg-type]


# -- templates: seed once, copy per run ---------------------------------------------------------
def cache_key(backend: str, n: int) -> str:
    return f"api-bench-{backend}-{n}-{db.head_revision()}-v{SEED_VERSION}"


def _fresh(meta_path: Path) -> Seeded | None:
    if not meta_path.exists():
        return None
    meta = Seeded(**json.loads(meta_path.read_text()))
    if utcnow() - datetime.fromisoformat(meta.seeded_at) > MAX_AGE:
        return None
    return meta


def sqlite_template(n: int, cache: Path | None, work: Path) -> tuple[Path, Seeded, bool]:
    """A seeded SQLite file (reused from ``cache`` when fresh); returns (file, meta, reused)."""
    folder = cache or work
    folder.mkdir(parents=True, exist_ok=True)
    key = cache_key("sqlite", n)
    path, meta_path = folder / f"{key}.db", folder / f"{key}.json"
    meta = _fresh(meta_path) if cache else None
    if meta is not None and path.exists():
        return path, meta, True
    for stale in folder.glob(f"{key}.db*"):
        stale.unlink()
    meta = seed(f"sqlite:///{path}", n, work)
    meta_path.write_text(json.dumps(asdict(meta), indent=1))
    meta_path.chmod(0o600)
    return path, meta, False


def admin_engine() -> Engine:
    return create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")


def pg_url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def pg_create(name: str, template: str | None = None) -> None:
    admin = admin_engine()
    try:
        with admin.connect() as conn:
            suffix = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
    finally:
        admin.dispose()


def pg_drop(name: str) -> None:
    admin = admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def pg_exists(name: str) -> bool:
    admin = admin_engine()
    try:
        with admin.connect() as conn:
            return bool(
                conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
                ).first()
            )
    finally:
        admin.dispose()


def pg_template(n: int, cache: Path | None, work: Path) -> tuple[str, Seeded, bool]:
    """A seeded PostgreSQL database to copy (CREATE DATABASE ... TEMPLATE); with ``cache``
    it is kept (named after the cache key) and reused while fresh, else the caller drops it."""
    key = cache_key("pg", n).replace("-", "_")
    if cache is None:
        name = f"dp_apibench_tpl_{uuid.uuid4().hex[:8]}"
    else:
        cache.mkdir(parents=True, exist_ok=True)
        name = f"dp_{key}"[:63]
        meta = _fresh(cache / f"{key}.json")
        if meta is not None and pg_exists(name):
            return name, meta, True
        pg_drop(name)
    pg_create(name)
    try:
        meta = seed(pg_url(name), n, work)
    except BaseException:
        pg_drop(name)
        raise
    if cache is not None:
        path = cache / f"{key}.json"
        path.write_text(json.dumps(asdict(meta), indent=1))
        path.chmod(0o600)
    return name, meta, False
