"""The ``digipersona`` command (Typer + Rich): one group per domain, commands call services.

Each command's module is imported only when that command runs: the modules import the services
(FastAPI, SQLAlchemy, the models, the platform clients), which took over a second before
``digipersona --help`` could print a line. The listing below carries each command's one-line
help, so ``--help`` imports none of them (tests/cli/test_cli.py checks both stay in step).
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from digipersona.kit import multiproc


def _root() -> None:
    """Self-hosted multi-persona social media autopilot."""


class LazyCommand:
    """Where a top-level command lives (``module:attribute``) and its one-line help."""

    def __init__(self, target: str, help: str) -> None:
        self.target = target
        self.help = help

    def load(self, name: str) -> Any:
        """Import the command's module and build its click command, as ``add_typer`` or
        ``command`` on the root app would have."""
        module, _, attribute = self.target.partition(":")
        obj: Any = getattr(importlib.import_module(f"digipersona.cli.{module}"), attribute)
        holder = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
        holder.callback()(_root)  # always a group, so the command keeps its own shape
        if isinstance(obj, typer.Typer):
            holder.add_typer(obj, name=name)
        else:
            holder.command(name)(obj)
        group = typer.main.get_command(holder)
        assert isinstance(group, TyperGroup)
        return group.commands[name]


COMMANDS: dict[str, LazyCommand] = {
    "serve": LazyCommand(
        "server:serve", "Run the web UI and API (and, in embedded mode, apply migrations first)."
    ),
    "generate": LazyCommand(
        "content:generate",
        "Draft posts in a persona's voice and print them with their per-platform lengths.",
    ),
    "worker": LazyCommand(
        "engine:worker", "Run a Celery worker (scale-out mode; needs DIGIPERSONA_BROKER_URL)."
    ),
    "scheduler": LazyCommand(
        "engine:scheduler",
        "Claim due publications and hand them to Celery workers (safe to run several).",
    ),
    "queue": LazyCommand(
        "engine:queue", "What is due next, per persona, in each persona's own time."
    ),
    "publish-now": LazyCommand(
        "engine:publish_now", "Send a scheduled post's pending publications immediately."
    ),
    "doctor": LazyCommand(
        "doctor:doctor", "Check an installation and say what to fix (exit 1 on a failure)."
    ),
    "demo": LazyCommand(
        "demo:demo",
        "Create a demo workspace: personas, a month of posts with metrics, leads, approvals.",
    ),
    "mcp": LazyCommand(
        "mcp_cmd:mcp",
        "Serve the MCP tools over stdio for a desktop AI assistant (an API token decides what).",
    ),
    "db": LazyCommand("db_cmd:app", "Database migrations."),
    "backup": LazyCommand(
        "backup:backup",
        "Copy an embedded installation (database and generated secrets) while it runs.",
    ),
    "restore": LazyCommand(
        "backup:restore",
        "Restore a backup into the data directory (empty, unless --force); stop serve first.",
    ),
    "export": LazyCommand(
        "transfer:export",
        "Write a whole workspace as versioned JSON (never credentials) to a file.",
    ),
    "import-workspace": LazyCommand(
        "transfer:import_workspace",
        "Read a `digipersona export` file into an empty workspace.",
    ),
    "users": LazyCommand("users:app", "User accounts."),
    "personas": LazyCommand("personas:app", "Personas."),
    "keys": LazyCommand("keys:app", "Encryption keys for tokens at rest."),
    "content": LazyCommand("content:app", "Posts: list, show, approve, reject, import and export."),
    "leads": LazyCommand("leads:app", "Sales-lead detection."),
    "analytics": LazyCommand("analytics:app", "Engagement analytics."),
    "autopilot": LazyCommand("autopilot:app", "Autopilot: scheduled and event-triggered drafting."),
}


class LazyGroup(TyperGroup):
    """The commands of ``COMMANDS``, each imported only when it is about to run."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        # What the help listing and "did you mean" read: a name and a line, nothing imported.
        for name, lazy in COMMANDS.items():
            self.commands[name] = TyperCommand(name=name, help=lazy.help, short_help=lazy.help)

    # ``ctx`` is typed Any: Typer vendors click, and its Context type is not public.
    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None and command is not None:
            # Before the command's modules import prometheus-client (see kit/multiproc.py).
            multiproc.prepare(name)
            command = COMMANDS[name].load(name)
        return name, command, rest


app = typer.Typer(
    name="digipersona",
    help="Self-hosted multi-persona social media autopilot.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=LazyGroup,
)
app.callback()(_root)


def main() -> None:
    """Console-script entry point."""
    app()
