"""Drafting and reviewing from the shell."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from digipersona import db
from digipersona.cli.context import (
    cli_principal,
    console,
    dump,
    friendly_errors,
    load_settings,
    pick_workspace,
    session_factory,
    session_scope,
)
from digipersona.exceptions import NotFound, ValidationFailed
from digipersona.kit.words import plural
from digipersona.personas import service as personas
from digipersona.posts import bulk, service
from digipersona.posts.endpoints import post_out

app = typer.Typer(
    help="Posts: list, show, approve, reject, import and export.", no_args_is_help=True
)
WorkspaceOpt = typer.Option(None, "--workspace", "-w", help="Workspace name or id.")


def _print_view(view: service.PostView) -> None:
    post = view.post
    console.print(f"[bold]{post.id}[/]  status: {post.status}  version: {post.version}")
    console.print(post.body)
    for variant in view.variants:
        mark = "[green]fits[/]" if variant.valid else "[red]does not fit[/]"
        lengths = ", ".join(str(n) for n in variant.lengths)
        console.print(
            f"  {variant.platform}: {plural(len(variant.parts), 'part')}, lengths {lengths} {mark}"
        )
        for problem in variant.problems:
            console.print(f"    - {problem}")


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"{value!r} is not a post id.") from None


@friendly_errors
def generate(
    persona: str = typer.Option(..., "--persona", help="Persona name or id."),
    brief: str = typer.Option(..., "--brief", help="What the posts should be about."),
    platform: list[str] = typer.Option(
        ["linkedin", "x", "bluesky"], "--platform", help="Repeatable."
    ),
    count: int = typer.Option(1, "-n", "--count", min=1, max=5),
    seed: int = typer.Option(None, help="Same seed, same drafts (template provider)."),
    workspace: str = WorkspaceOpt,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Draft posts in a persona's voice and print them with their per-platform lengths."""
    from digipersona.posts.schemas import GenerateIn

    settings = load_settings()
    with session_factory(settings) as factory:
        with db.session_scope(factory) as session:
            principal = cli_principal(session, pick_workspace(session, workspace))
            target = personas.get_by_name_or_id(session, principal.workspace_id, persona)
        body = GenerateIn.model_validate(
            {
                "persona_id": target.id,
                "brief": brief,
                "platforms": platform,
                "count": count,
                "seed": seed,
            }
        )
        views = service.generate(
            factory,
            principal,
            settings,
            persona_id=target.id,
            brief=body.brief,
            platforms=list(body.platforms),
            count=body.count,
            seed=body.seed,
        )
    if as_json:
        dump([post_out(v).model_dump(mode="json") for v in views])
        return
    for view in views:
        _print_view(view)
        console.print()


@app.command("list")
@friendly_errors
def list_(
    status: str = typer.Option(None, help="draft, in_review, approved, ..."),
    persona: str = typer.Option(None, help="Persona name or id."),
    workspace: str = WorkspaceOpt,
) -> None:
    """Posts, newest first."""
    with session_scope() as session:
        principal = cli_principal(session, pick_workspace(session, workspace))
        persona_id = (
            personas.get_by_name_or_id(session, principal.workspace_id, persona).id
            if persona
            else None
        )
        views, _total = service.list_posts(
            session, principal, status=status, persona_id=persona_id, limit=50
        )
        table = Table("Status", "Platforms", "Text", "ID")
        for view in views:
            first = view.post.body.splitlines()[0][:50] if view.post.body else ""
            table.add_row(
                view.post.status, ", ".join(view.post.platforms), first, str(view.post.id)
            )
        console.print(table if views else "No posts.")


@app.command("show")
@friendly_errors
def show(
    post_id: str, workspace: str = WorkspaceOpt, as_json: bool = typer.Option(False, "--json")
) -> None:
    """One post with its variants."""
    with session_scope() as session:
        principal = cli_principal(session, pick_workspace(session, workspace))
        view = service.view(session, service.get(session, principal, _uuid(post_id)))
        if as_json:
            dump(post_out(view).model_dump(mode="json"))
        else:
            _print_view(view)


@app.command("submit")
@friendly_errors
def submit(post_id: str, workspace: str = WorkspaceOpt) -> None:
    """Send a draft to review."""
    with session_scope() as session:
        principal = cli_principal(session, pick_workspace(session, workspace))
        view = service.submit(session, principal, _uuid(post_id))
        console.print(f"{view.post.id}: {view.post.status}")


@app.command("approve")
@friendly_errors
def approve(post_id: str, workspace: str = WorkspaceOpt) -> None:
    """Approve a post in review."""
    with session_scope() as session:
        principal = cli_principal(session, pick_workspace(session, workspace))
        view = service.approve(session, principal, _uuid(post_id))
        console.print(f"{view.post.id}: {view.post.status}")


@app.command("reject")
@friendly_errors
def reject(
    post_id: str,
    reason: str = typer.Option(..., "--reason", help="What the author should change."),
    workspace: str = WorkspaceOpt,
) -> None:
    """Reject a post in review, with the reason."""
    with session_scope() as session:
        principal = cli_principal(session, pick_workspace(session, workspace))
        view = service.reject(session, principal, _uuid(post_id), reason=reason.strip())
        console.print(f"{view.post.id}: {view.post.status}")


MAX_FILE_BYTES = 20_000_000


@app.command("import")
@friendly_errors
def import_(
    file: Path = typer.Argument(..., help="A .csv (header row) or .json (array of rows) file."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every row, write nothing."),
    workspace: str = WorkspaceOpt,
) -> None:
    """Import drafts from a CSV or JSON file: all or nothing, with a per-row report.

    Exits 1 when any row has a problem (nothing is written then)."""
    suffix = file.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise ValidationFailed(f"{file.name}: give a .csv or .json file.")
    if not file.is_file():
        raise NotFound(f"No file {file}.")
    if file.stat().st_size > MAX_FILE_BYTES:
        raise ValidationFailed(f"{file.name} is larger than {MAX_FILE_BYTES // 1_000_000} MB.")
    text = file.read_text(encoding="utf-8-sig")
    rows = bulk.parse_csv(text) if suffix == ".csv" else bulk.parse_json(text)
    with session_scope() as session:
        principal = cli_principal(session, pick_workspace(session, workspace))
        report = bulk.import_rows(session, principal, rows, dry_run=True)
        if report.ok and not dry_run:
            report = bulk.import_rows(session, principal, rows, dry_run=False)
    for problem in report.problems:
        console.print(f"row {problem.row}, {problem.field}: {problem.message}")
    bad = len({p.row for p in report.problems})
    if report.problems:
        console.print(f"{plural(bad, 'row')} of {report.rows} with problems: nothing was imported.")
        raise typer.Exit(1)
    if dry_run:
        console.print(f"All {plural(report.rows, 'row')} are fine (dry run: nothing written).")
    else:
        console.print(f"Imported {plural(report.created, 'draft')}.")


@app.command("export")
@friendly_errors
def export(
    file: Path = typer.Argument(..., help="Where to write the posts."),
    format: str = typer.Option(
        None, "--format", help="csv or json (default: from the file's extension, else json)."
    ),
    workspace: str = WorkspaceOpt,
) -> None:
    """Export every post of the workspace as import-shaped rows (CSV or JSON)."""
    chosen = (format or file.suffix.lstrip(".") or "json").lower()
    if chosen not in ("csv", "json"):
        raise ValidationFailed("--format is csv or json.")
    count = 0
    with session_scope() as session, file.open("w", encoding="utf-8", newline="") as out:
        principal = cli_principal(session, pick_workspace(session, workspace))
        posts = bulk.matching_posts(
            session, principal, status=None, persona_id=None, platform=None, q=None
        )

        def counted() -> Iterator[dict[str, Any]]:
            nonlocal count
            for row in bulk.export_rows(session, posts):
                count += 1
                yield row

        chunks = bulk.to_csv(counted()) if chosen == "csv" else bulk.to_json(counted())
        for chunk in chunks:
            out.write(chunk)
    console.print(f"Wrote {plural(count, 'post')} to {file}.")
