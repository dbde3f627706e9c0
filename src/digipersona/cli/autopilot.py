"""The autopilot from the shell: add a rule, run a persona's rules now, see what happens next."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from digipersona import db
from digipersona.autopilot import service
from digipersona.autopilot.schemas import RuleCreate, RunOut
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
from digipersona.kit.time import utcnow
from digipersona.models import AutopilotRun
from digipersona.personas import service as personas
from digipersona.scheduling.describe import describe_slot_instant

app = typer.Typer(help="Autopilot: scheduled and event-triggered drafting.", no_args_is_help=True)
WorkspaceOpt = typer.Option(None, "--workspace", "-w", help="Workspace name or id.")


def _run_line(run: AutopilotRun, tz: str) -> str:
    when = describe_slot_instant(run.started_at, tz)
    if run.status == "generated":
        what = f"{len(run.post_ids)} draft(s)"
    elif run.status == "failed":
        what = f"failed: {run.error}"
    elif run.status == "dry_run":
        plans = run.details.get("plans", [])
        what = (
            f"would draft {len(plans)}: "
            + "; ".join(f"{p['topic'] or '(brief)'} as {p['structure']}" for p in plans)
            if plans
            else f"would draft nothing: {run.reason}"
        )
    else:
        what = f"nothing: {run.reason}"
    return escape(f"{when} {run.source}: {what}")


@app.command("rule-add")
@friendly_errors
def rule_add(
    persona: str = typer.Option(..., "--persona", help="Persona name or id."),
    rrule: str = typer.Option(..., "--rrule", help="e.g. FREQ=WEEKLY;BYDAY=MO;BYHOUR=8"),
    count: int = typer.Option(1, "-n", "--count", help="Drafts per run (keep_full: to keep)."),
    platform: list[str] = typer.Option(["linkedin"], "--platform", help="Repeatable."),
    topic: list[str] = typer.Option([], "--topic", help="Rule topics (repeatable)."),
    mode: str = typer.Option("fixed", help="fixed or keep_full."),
    destination: str = typer.Option("review", help="review or slots (auto-approve personas)."),
    workspace: str = WorkspaceOpt,
) -> None:
    """Add a generation rule to a persona."""
    with session_scope() as session:
        principal = cli_principal(session, pick_workspace(session, workspace))
        target = personas.get_by_name_or_id(session, principal.workspace_id, persona)
        data = RuleCreate.model_validate(
            {
                "rrule": rrule,
                "count": count,
                "platforms": platform,
                "topics": topic,
                "mode": mode,
                "destination": destination,
            }
        )
        rule = service.create_rule(session, principal, target.id, data)
        console.print(
            f"Rule {rule.id}: {service.describe_schedule(rule, target)}. Next: "
            f"{service.describe_next(session, rule, target, utcnow())}"
        )


@app.command("run")
@friendly_errors
def run(
    persona: str = typer.Option(..., "--persona", help="Persona name or id."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan; draft nothing."),
    workspace: str = WorkspaceOpt,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Run every enabled rule of a persona now."""
    settings = load_settings()
    with session_factory(settings) as factory:
        with db.session_scope(factory) as session:
            principal = cli_principal(session, pick_workspace(session, workspace))
            target = personas.get_by_name_or_id(session, principal.workspace_id, persona)
        runs = service.run_persona_now(factory, principal, settings, target.id, dry_run=dry_run)
    if as_json:
        dump([RunOut.model_validate(r).model_dump(mode="json") for r in runs])
        return
    if not runs:
        console.print(
            f"{target.name} has no enabled autopilot rule: add one with "
            "`digipersona autopilot rule-add`."
        )
        return
    for item in runs:
        console.print(_run_line(item, target.timezone))
        for note in item.details.get("drafts", []):
            extra = f" ({note['note']})" if note.get("note") else ""
            console.print(escape(f"  {note['post_id']}: {note['status']}{extra}"))


@app.command("status")
@friendly_errors
def status(
    persona: str = typer.Option(None, "--persona", help="Only this persona."),
    workspace: str = WorkspaceOpt,
) -> None:
    """What the autopilot does next and did last, per persona."""
    with session_scope() as session:
        principal = cli_principal(session, pick_workspace(session, workspace))
        persona_id = (
            personas.get_by_name_or_id(session, principal.workspace_id, persona).id
            if persona
            else None
        )
        items = service.status(session, principal, persona_id=persona_id)
        if not any(s.rules or s.triggers for s in items):
            console.print("No autopilot rules or triggers yet.")
        for item in items:
            if not (item.rules or item.triggers or item.runs):
                continue
            console.print(f"[bold]{item.persona.name}[/] ({item.persona.timezone})")
            table = Table("Rule", "Schedule", "Next", "ID")
            for rule, schedule, next_step in item.rules:
                table.add_row(
                    escape(rule.name or rule.mode),
                    escape(schedule),
                    escape(next_step),
                    str(rule.id),
                )
            if item.rules:
                console.print(table)
            for trigger in item.triggers:
                state = "on" if trigger.enabled else "off"
                where = trigger.feed_url or ""
                last = f" last: {trigger.last_status}" if trigger.last_status else ""
                console.print(escape(f"  trigger {trigger.kind} ({state}) {where}{last}"))
            for run_ in item.runs:
                console.print(f"  {_run_line(run_, item.persona.timezone)}")
