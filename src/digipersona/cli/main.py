"""The ``digipersona`` command (Typer + Rich): one group per domain, commands call services."""

from __future__ import annotations

import typer

from digipersona.cli import (
    analytics,
    autopilot,
    content,
    db_cmd,
    engine,
    keys,
    leads,
    personas,
    server,
    users,
)

app = typer.Typer(
    name="digipersona",
    help="Self-hosted multi-persona social media autopilot.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("serve")(server.serve)
app.command("generate")(content.generate)
app.command("worker")(engine.worker)
app.command("scheduler")(engine.scheduler)
app.command("queue")(engine.queue)
app.command("publish-now")(engine.publish_now)
app.add_typer(db_cmd.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(personas.app, name="personas")
app.add_typer(keys.app, name="keys")
app.add_typer(content.app, name="content")
app.add_typer(leads.app, name="leads")
app.add_typer(analytics.app, name="analytics")
app.add_typer(autopilot.app, name="autopilot")


def main() -> None:
    """Console-script entry point."""
    app()
