"""Publishing engine commands: workers, the scheduler, the queue, publishing now."""

from __future__ import annotations

import logging
import threading
import time
import uuid

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from digipersona.cli.context import (
    console,
    err_console,
    friendly_errors,
    load_settings,
    refuse_newer_database,
    session_scope,
)
from digipersona.config import ConfigError
from digipersona.exceptions import Conflict, NotFound
from digipersona.kit.time import utcnow
from digipersona.kit.words import plural
from digipersona.models import PublicationState
from digipersona.publishing import repository as publishing
from digipersona.scheduling.describe import describe_slot_instant


@friendly_errors
def worker(
    concurrency: int = typer.Option(2, help="Celery worker processes (prefork)."),
    loglevel: str = typer.Option("INFO", help="Celery log level."),
    metrics_port: int = typer.Option(
        0,
        help="Serve this host's worker metrics on this port (0: off). Only on a host without "
        "the web process; needs PROMETHEUS_MULTIPROC_DIR (docs/monitoring.md).",
    ),
    metrics_host: str = typer.Option("127.0.0.1", help="Address of the metrics exporter."),
) -> None:
    """Run a Celery worker (scale-out mode; needs DIGIPERSONA_BROKER_URL)."""
    from digipersona.kit.metrics import start_exporter
    from digipersona.worker.celery_app import make_celery, warn_if_unscraped

    settings = load_settings()
    refuse_newer_database(settings)
    for warning in settings.startup_warnings():
        err_console.print(f"[bold yellow]Warning:[/] {warning}", soft_wrap=True)
    app = make_celery(settings)
    warn_if_unscraped("worker")
    if metrics_port:
        try:
            start_exporter(metrics_port, metrics_host)
        except (ValueError, OSError) as exc:
            raise ConfigError(f"--metrics-port {metrics_port}: {exc}") from exc
    app.worker_main(
        ["worker", f"--concurrency={concurrency}", f"--loglevel={loglevel}", "--pool=prefork"]
    )


@friendly_errors
def scheduler() -> None:
    """Claim due publications and hand them to Celery workers (safe to run several)."""
    from digipersona import db
    from digipersona.kit.logging import configure_logging
    from digipersona.worker.celery_app import (
        Scheduler,
        check_connections,
        make_celery,
        warn_if_unscraped,
    )

    settings = load_settings()
    refuse_newer_database(settings)
    configure_logging(settings.log_level, settings.log_format)
    for warning in settings.startup_warnings():
        logging.getLogger("digipersona.config").warning(warning)
    app = make_celery(settings)
    if settings.is_sqlite and settings.auto_migrate:
        db.upgrade(settings.effective_database_url)
    reached = check_connections(settings, app)
    warn_if_unscraped("scheduler")
    runner = Scheduler(settings, app)
    console.print(
        f"digipersona scheduler {runner.owner} is running (Ctrl+C stops it)", soft_wrap=True
    )
    for name, url in reached:
        console.print(f"  {name + ':':10} {url}", highlight=False, soft_wrap=True)
    try:
        runner.run_forever()
    except KeyboardInterrupt:
        console.print("scheduler stopped")


@friendly_errors
def queue(limit: int = typer.Option(20, help="How many upcoming publications to show.")) -> None:
    """What is due next, per persona, in each persona's own time."""
    with session_scope() as session:
        rows = publishing.upcoming_queue(session, limit)
        if not rows:
            console.print("Nothing is scheduled.")
            return
        table = Table("When (persona time)", "Persona", "Platform", "State", "Post", "Publication")
        for pub, post, persona in rows:
            table.add_row(
                describe_slot_instant(pub.next_attempt_at, persona.timezone),
                persona.name,
                pub.platform,
                pub.state,
                post.body.splitlines()[0][:40] if post.body else "",
                str(pub.id),
            )
        console.print(table)


@friendly_errors
def publish_now(
    post_id: str = typer.Argument(..., help="Post id (its pending publications go out now)."),
    wait: bool = typer.Option(True, help="Publish in this process and wait for the result."),
) -> None:
    """Send a scheduled post's pending publications immediately."""
    from digipersona.worker.embedded import Dispatcher
    from digipersona.worker.runtime import build_runtime

    try:
        pid = uuid.UUID(post_id)
    except ValueError:
        raise NotFound(f"{post_id!r} is not a post id.") from None
    settings = load_settings()
    now = utcnow()
    with session_scope(settings) as session:
        pubs = publishing.pending_publications_of_post(session, pid)
        if not pubs:
            raise Conflict("This post has no pending publications: schedule it first.")
        for pub in pubs:
            pub.next_attempt_at = now
            pub.scheduled_at = now
            if pub.state == "held":
                pub.state = PublicationState.scheduled.value
        ids = [p.id for p in pubs]
    if not wait:
        console.print(f"{plural(len(ids), 'publication')} will go out at the next dispatcher tick.")
        return
    runtime = build_runtime(settings)
    dispatcher = Dispatcher(runtime.engine, threads=4, batch=50, poll_seconds=0.1)
    done = threading.Event()
    with Progress(
        TextColumn("Publishing"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("publish", total=len(ids))
        deadline = time.monotonic() + 120
        while not done.is_set() and time.monotonic() < deadline:
            dispatcher.tick()
            with runtime.factory() as s:
                states = {p.id: p.state for p in publishing.publications_by_ids(s, ids)}
            finished = sum(
                1 for st in states.values() if st in {"published", "failed", "missed", "held"}
            )
            progress.update(task, completed=finished)
            if finished == len(ids) and dispatcher.inflight == 0:
                done.set()
            time.sleep(0.05)
    dispatcher.stop()
    with runtime.factory() as s:
        for pub in publishing.publications_by_ids(s, ids):
            detail = pub.external_url or pub.last_error or ""
            console.print(f"{pub.platform}: {pub.state} {detail}")
    runtime.close()
