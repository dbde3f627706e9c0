from __future__ import annotations

import typer

from digipersona import db
from digipersona.cli.context import (
    console,
    friendly_errors,
    load_settings,
    pick_workspace,
    refuse_newer_database,
    session_factory,
)
from digipersona.demo.seed import DEFAULT_SEED, DEMO_EMAIL, seed


@friendly_errors
def demo(
    workspace: str = typer.Option(
        None, help="Fill this empty workspace (id or name) instead of creating one named 'Demo'."
    ),
    email: str = typer.Option(DEMO_EMAIL, help="Login of the demo workspace's new owner."),
    password: str = typer.Option(
        None, help="Password of the new owner (at least 10 characters); generated if left out."
    ),
    seed_value: int = typer.Option(
        DEFAULT_SEED, "--seed", help="Seed of the random choices (same seed, same workspace)."
    ),
) -> None:
    """Create a demo workspace: personas, a month of posts with metrics, leads, approvals.

    Its connections are demo connections: nothing is ever sent to or read from a platform. A
    workspace with data of its own is refused; running it again changes nothing.
    """
    settings = load_settings()
    refuse_newer_database(settings)
    with session_factory(settings) as factory:
        workspace_id = None
        if workspace is not None:
            with db.session_scope(factory) as session:
                workspace_id = pick_workspace(session, workspace).id
        report = seed(
            factory,
            settings,
            workspace_id=workspace_id,
            email=email,
            password=password,
            seed_value=seed_value,
        )
    if not report.created:
        console.print(f"Workspace {report.workspace_name!r} already holds the demo: nothing to do.")
        return
    console.print(f"Demo workspace {report.workspace_name!r} is ready (id {report.workspace_id}).")
    console.print(
        ", ".join(f"{count} {what}" for what, count in report.counts.items()), highlight=False
    )
    if report.password is not None:
        console.print(f"Log in as {report.email} with password {report.password}")
    console.print(
        "Its connections are demo connections: nothing is ever sent to or read from a platform."
    )
