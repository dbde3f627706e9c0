from __future__ import annotations

import typer
from pydantic import ValidationError
from rich.table import Table

from digipersona.cli.context import (
    cli_principal,
    console,
    dump,
    friendly_errors,
    pick_workspace,
    session_scope,
)
from digipersona.exceptions import ValidationFailed
from digipersona.personas import schemas, service

app = typer.Typer(help="Personas.", no_args_is_help=True)
WorkspaceOpt = typer.Option(None, "--workspace", "-w", help="Workspace name or id.")


@app.command("list")
@friendly_errors
def list_(workspace: str = WorkspaceOpt, as_json: bool = typer.Option(False, "--json")) -> None:
    """List personas."""
    with session_scope() as session:
        principal = cli_principal(session, pick_workspace(session, workspace))
        items, _ = service.list_personas(session, principal, limit=200)
        if as_json:
            dump([schemas.PersonaOut.model_validate(p).model_dump(mode="json") for p in items])
            return
        table = Table("Name", "Language", "Time zone", "Topics", "ID")
        for p in items:
            table.add_row(p.name, p.language, p.timezone, ", ".join(p.topics), str(p.id))
        console.print(
            table if items else "No personas yet: create one with `digipersona personas create`."
        )


@app.command("create")
@friendly_errors
def create(
    name: str = typer.Option(..., help="Persona name."),
    voice: str = typer.Option("", help="Voice and tone."),
    bio: str = typer.Option("", help="Short bio."),
    topic: list[str] = typer.Option([], "--topic", help="A topic (repeatable)."),
    hashtag: list[str] = typer.Option([], "--hashtag", help="A hashtag (repeatable)."),
    language: str = typer.Option("en"),
    timezone: str = typer.Option("UTC", help="IANA time zone, e.g. Europe/Berlin."),
    slot: list[str] = typer.Option([], "--slot", help="An RRULE posting slot (repeatable)."),
    workspace: str = WorkspaceOpt,
) -> None:
    """Create a persona."""
    fields: dict[str, object] = {
        "name": name,
        "voice": voice,
        "bio": bio,
        "topics": topic,
        "hashtags": hashtag,
        "language": language,
        "timezone": timezone,
    }
    if slot:
        fields["slots"] = slot
    try:
        data = schemas.PersonaCreate.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "input"
        raise ValidationFailed(
            f"{where}: {str(first['msg']).removeprefix('Value error, ')}"
        ) from exc
    with session_scope() as session:
        principal = cli_principal(session, pick_workspace(session, workspace))
        persona = service.create(session, principal, data)
        console.print(f"Created persona {persona.name} ({persona.id}).")


@app.command("show")
@friendly_errors
def show(
    ref: str = typer.Argument(..., help="Persona name or id."),
    workspace: str = WorkspaceOpt,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show one persona."""
    with session_scope() as session:
        principal = cli_principal(session, pick_workspace(session, workspace))
        persona = service.get_by_name_or_id(session, principal.workspace_id, ref)
        out = schemas.PersonaOut.model_validate(persona).model_dump(mode="json")
        if as_json:
            dump(out)
            return
        for key, value in out.items():
            shown = ", ".join(value) if isinstance(value, list) else value
            console.print(f"[bold]{key}[/]: {shown if shown != '' else '-'}")
