"""``digipersona doctor``: check an installation and say what to fix."""

from __future__ import annotations

import typer
from rich.table import Table

from digipersona.cli.context import console, friendly_errors
from digipersona.config import Settings
from digipersona.monitoring.doctor import Status, run_checks

STYLE = {Status.ok: "green", Status.warn: "yellow", Status.fail: "bold red"}


@friendly_errors
def doctor(
    skip_ai: bool = typer.Option(False, "--skip-ai", help="Do not send the AI provider a request."),
) -> None:
    """Check an installation and say what to fix (exit 1 on a failure)."""
    # Fresh settings, not the cached ones: ensure_secrets is one of the checks.
    results = run_checks(Settings(), skip_ai=skip_ai)
    table = Table("", "Check", "Finding", "What to do")
    for result in results:
        status = f"[{STYLE[result.status]}]{result.status.value}[/]"
        table.add_row(status, result.check, result.detail, result.fix)
    console.print(table)
    failed = [r.check for r in results if r.status is Status.fail]
    if failed:
        console.print(f"[bold red]{len(failed)} check(s) failed:[/] {', '.join(failed)}")
        raise typer.Exit(1)
    console.print("[green]No failures.[/]")
