"""``digipersona export`` and ``digipersona import-workspace``: a whole workspace as JSON."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from digipersona.cli.context import (
    cli_principal,
    console,
    friendly_errors,
    pick_workspace,
    session_scope,
)
from digipersona.exceptions import NotFound
from digipersona.transfer import service

WorkspaceOpt = typer.Option(None, "--workspace", "-w", help="Workspace name or id.")


@friendly_errors
def export(
    file: Path = typer.Argument(..., help="Where to write the JSON file."),
    workspace: str = WorkspaceOpt,
) -> None:
    """Write a whole workspace as versioned JSON (never credentials) to a file.

    Personas, autopilot rules and triggers, posts, variants, publications with their links,
    metric history and interactions; no token, password or encrypted secret."""
    partial = file.with_name(file.name + ".partial")
    try:
        with session_scope() as session, partial.open("w", encoding="utf-8") as out:
            chosen = pick_workspace(session, workspace)
            service.export_to(out, session, cli_principal(session, chosen), chosen)
        os.replace(partial, file)
    finally:
        partial.unlink(missing_ok=True)
    console.print(f"Wrote workspace {chosen.name!r} to {file}.")


@friendly_errors
def import_workspace(
    file: Path = typer.Argument(..., help="A file written by `digipersona export`."),
    workspace: str = WorkspaceOpt,
) -> None:
    """Read a `digipersona export` file into an empty workspace.

    All or nothing; every row gets a new id. Connections arrive without tokens: connect each
    account again before publishing."""
    if not file.is_file():
        raise NotFound(f"No file {file}.")
    with session_scope() as session, file.open(encoding="utf-8") as source:
        chosen = pick_workspace(session, workspace)
        _header, rows = service.read_document(source)
        counts = service.import_document(session, cli_principal(session, chosen), rows)
    done = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.rows.items())
    console.print(f"Imported into workspace {chosen.name!r}: {done}.")
    console.print("Connections need their accounts connected again (tokens are never exported).")
