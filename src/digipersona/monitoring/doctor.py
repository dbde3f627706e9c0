"""``digipersona doctor``: each check of an installation, with what to do when it is not OK.

A check never raises: a failure is a ``FAIL`` result naming the setting or the command that
fixes it. The checks read; the only write is none, and the only outside call that costs is the
AI provider's one tiny request (skippable).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from digipersona import db
from digipersona.config import ConfigError, Settings
from digipersona.kit.crypto import DecryptionError, TokenCipher
from digipersona.kit.time import ensure_utc, utcnow
from digipersona.monitoring import repository

SKEW_WARN = timedelta(seconds=2)
SKEW_FAIL = timedelta(seconds=30)


class Status(StrEnum):
    ok = "OK"
    warn = "WARN"
    fail = "FAIL"


@dataclass(frozen=True)
class Result:
    check: str
    status: Status
    detail: str
    fix: str = ""


def ok(check: str, detail: str) -> Result:
    return Result(check, Status.ok, detail)


def settings_checks(settings: Settings) -> list[Result]:
    """Secrets, the public URL and the cookie flags."""
    try:
        settings.ensure_secrets()
    except ConfigError as exc:
        return [Result("settings", Status.fail, str(exc), "Fix that setting and run doctor again.")]
    results = [ok("settings", f"mode {settings.env}; secrets present and well-formed")]
    https = (settings.base_url or "").startswith("https://")
    if settings.is_production and not https:
        results.append(
            Result(
                "base url",
                Status.fail,
                f"DIGIPERSONA_BASE_URL is {settings.base_url or 'unset'!r} in production",
                "Serve over HTTPS (a reverse proxy) and set an https:// DIGIPERSONA_BASE_URL.",
            )
        )
    else:
        results.append(ok("base url", settings.public_base_url))
    if settings.is_production and not settings.effective_cookie_secure:
        results.append(
            Result(
                "cookies",
                Status.fail,
                "session cookies lack the Secure flag",
                "Use an https:// base URL or DIGIPERSONA_COOKIE_SECURE=true behind TLS.",
            )
        )
    elif not settings.effective_cookie_secure:
        results.append(
            Result(
                "cookies",
                Status.warn,
                "session cookies lack the Secure flag (fine on loopback only)",
                "Use an https:// DIGIPERSONA_BASE_URL before opening the server to a network.",
            )
        )
    else:
        results.append(ok("cookies", "Secure flag set"))
    return results


def database_checks(engine: Engine) -> list[Result]:
    try:
        db.ping(engine)
    except Exception as exc:  # any driver error
        return [
            Result(
                "database",
                Status.fail,
                f"unreachable: {type(exc).__name__}",
                "Check DIGIPERSONA_DATABASE_URL and that the server runs.",
            )
        ]
    current, head = db.current_revision(engine), db.head_revision()
    if current != head:
        return [
            ok("database", f"reachable ({engine.dialect.name})"),
            Result(
                "migrations",
                Status.fail,
                f"at {current}, the code expects {head}",
                "Run `digipersona db upgrade`.",
            ),
        ]
    return [ok("database", f"reachable ({engine.dialect.name})"), ok("migrations", f"at {head}")]


def broker_checks(settings: Settings) -> list[Result]:
    if not settings.broker_url:
        return [ok("broker", "not used (embedded mode: serve publishes itself)")]
    from digipersona.worker.celery_app import answering_workers, broker_reachable

    problem = broker_reachable(settings)
    if problem is not None:
        return [
            Result(
                "broker",
                Status.fail,
                f"unreachable: {problem}",
                "Check DIGIPERSONA_BROKER_URL and that Redis runs.",
            )
        ]
    workers = answering_workers(settings)
    if not workers:
        return [
            ok("broker", "reachable"),
            Result(
                "workers",
                Status.fail,
                "no Celery worker answered a ping",
                "Start `digipersona worker` (one or more) with the same broker URL.",
            ),
        ]
    return [ok("broker", "reachable"), ok("workers", ", ".join(workers))]


def scheduler_check(session: Session, settings: Settings, now: datetime) -> Result:
    last = repository.last_heartbeat(session, "scheduler")
    fix = (
        "Start `digipersona scheduler`."
        if settings.broker_url
        else "Start `digipersona serve` (its dispatcher beats; DIGIPERSONA_EMBEDDED_WORKER=true)."
    )
    if last is None:
        return Result("scheduler", Status.warn, "no scheduler or dispatcher has run yet", fix)
    age = (now - ensure_utc(last)).total_seconds()
    if age > settings.scheduler_stale_seconds:
        return Result("scheduler", Status.fail, f"last heartbeat {age:.0f} s ago", fix)
    return ok("scheduler", f"last heartbeat {age:.0f} s ago")


def clock_check(session: Session, engine: Engine, now: datetime) -> Result:
    if engine.dialect.name == "sqlite":
        return ok("clock", "SQLite: the database uses this machine's clock")
    db_now = repository.database_now(session)
    skew = abs(ensure_utc(db_now) - now)
    detail = f"{skew.total_seconds():.1f} s off the database server's clock"
    if skew > SKEW_FAIL:
        return Result("clock", Status.fail, detail, "Run NTP (chrony, systemd-timesyncd) on both.")
    if skew > SKEW_WARN:
        return Result("clock", Status.warn, detail, "Run NTP (chrony, systemd-timesyncd) on both.")
    return ok("clock", detail)


def encryption_check(session: Session, cipher: TokenCipher) -> Result:
    """Every stored token and webhook secret decrypts with the configured keys."""
    stored = repository.stored_secrets(session)
    broken = 0
    for value in stored:
        try:
            cipher.decrypt(value)
        except DecryptionError:
            broken += 1
    if broken:
        return Result(
            "encryption keys",
            Status.fail,
            f"{broken} of {len(stored)} stored secrets do not decrypt",
            "DIGIPERSONA_ENCRYPTION_KEYS lost the key they were written with: put it back "
            "(new key first, old after), then `digipersona keys rotate`.",
        )
    return ok("encryption keys", f"all {len(stored)} stored secrets decrypt")


def platform_checks(session: Session, settings: Settings) -> list[Result]:
    """Each OAuth platform's app credentials: both halves, or none with no account on it."""
    used = repository.connected_platforms(session)
    results = []
    for platform, client_id, secret in (
        ("linkedin", settings.linkedin_client_id, settings.linkedin_client_secret),
        ("x", settings.x_client_id, settings.x_client_secret),
    ):
        env = f"DIGIPERSONA_{platform.upper()}_CLIENT_ID and _CLIENT_SECRET"
        if client_id and secret:
            results.append(ok(f"{platform} app", "client id and secret set"))
        elif client_id or secret or platform in used:
            why = "accounts are connected but " if platform in used else ""
            results.append(
                Result(
                    f"{platform} app",
                    Status.fail,
                    f"{why}the app credentials are incomplete",
                    f"Set both {env} (docs/configuration.md).",
                )
            )
        else:
            results.append(
                Result(f"{platform} app", Status.warn, "not configured", f"Set {env} to connect.")
            )
    return results


def ai_check(settings: Settings, skip: bool) -> Result:
    if settings.llm_provider == "template":
        return ok("ai provider", "template (no model, nothing to call)")
    if skip:
        return Result("ai provider", Status.warn, "not tried (--skip-ai)")
    from digipersona.generation import get_provider

    try:
        provider = get_provider(settings)
        try:
            provider.classify_lead("Hello!")
        finally:
            provider.close()
    except Exception as exc:  # any SDK or configuration error is the finding
        return Result(
            "ai provider",
            Status.fail,
            f"{settings.llm_provider}: {type(exc).__name__}: {str(exc)[:200]}",
            "Check DIGIPERSONA_LLM_API_KEY, _LLM_MODEL and _LLM_BASE_URL.",
        )
    return ok("ai provider", f"{settings.llm_provider} answered")


def data_dir_check(settings: Settings) -> Result:
    path = settings.data_dir
    if not path.is_dir():
        return Result("data dir", Status.fail, f"{path} is missing", "Create it for this user.")
    if not os.access(path, os.W_OK | os.X_OK):
        return Result(
            "data dir", Status.fail, f"{path} is not writable", "chown it to the service user."
        )
    if not stat.S_IMODE(path.stat().st_mode) & 0o077:
        return ok("data dir", f"{path} writable, private")  # the files inside are too
    loose = [str(path)] + [
        p.name
        for p in path.glob("*")
        if p.is_file() and stat.S_IMODE(p.stat().st_mode) & 0o077 and _secret_file(p.name)
    ]
    return Result(
        "data dir",
        Status.warn,
        f"open to other users: {', '.join(loose)}",
        f"chmod 700 {path} (and 600 its key and database files).",
    )


def _secret_file(name: str) -> bool:
    return name in {"secret_key", "encryption_keys"} or name.endswith((".db", ".pem", ".key"))


def stored_state_checks(settings: Settings, clock: Callable[[], datetime] = utcnow) -> list[Result]:
    """The database, then what it holds (only once its schema is the code's)."""
    sqlite_path = db.sqlite_file(settings.effective_database_url)
    if sqlite_path is not None and not os.path.exists(sqlite_path):
        # Opening it would create an empty file: the doctor only reads.
        missing = f"{sqlite_path} does not exist"
        fix = "Run `digipersona db upgrade` (or `digipersona serve`) to create it."
        return [Result("database", Status.fail, missing, fix)]
    engine = db.make_engine(settings.effective_database_url)
    try:
        results = database_checks(engine)
        if any(r.status is Status.fail for r in results):
            return results
        with db.make_sessionmaker(engine)() as session:
            now = clock()
            results.append(scheduler_check(session, settings, now))
            results.append(clock_check(session, engine, now))
            results.append(encryption_check(session, TokenCipher(settings.encryption_key_list())))
            results += platform_checks(session, settings)
        return results
    finally:
        engine.dispose()


def run_checks(
    settings: Settings, *, skip_ai: bool = False, clock: Callable[[], datetime] = utcnow
) -> list[Result]:
    """Every check, in the order an operator fixes things."""
    results = settings_checks(settings)
    if any(r.status is Status.fail and r.check == "settings" for r in results):
        return results  # without secrets nothing else can be read
    results += stored_state_checks(settings, clock)
    results += broker_checks(settings)
    results.append(ai_check(settings, skip_ai))
    results.append(data_dir_check(settings))
    return results
