from __future__ import annotations

import typer

from digipersona.cli.context import console, dump, friendly_errors, pick_workspace, session_scope
from digipersona.interactions import lead_learning
from digipersona.interactions.leads import score_lead
from digipersona.kit.time import utcnow

app = typer.Typer(help="Sales-lead detection.", no_args_is_help=True)


@app.command("score")
@friendly_errors
def score(
    text: str = typer.Argument(..., help="The comment, reply or mention to score."),
    author_name: str = typer.Option(None, help="The author's name."),
    author_bio: str = typer.Option(None, help="The author's bio or headline."),
    as_json: bool = typer.Option(False, "--json", help="Print {score, is_lead, reasons}."),
) -> None:
    """Score a text 0-100 for buying intent, with the reasons."""
    result = score_lead(text, author_name=author_name, author_bio=author_bio)
    if as_json:
        dump(result.to_dict())
        return
    verdict = "[bold green]lead[/]" if result.is_lead else "not a lead"
    console.print(f"{result.score}/100: {verdict}")
    for reason in result.reasons:
        console.print(f"  - {reason}")


@app.command("retrain")
@friendly_errors
def retrain(
    workspace: str = typer.Option(None, "--workspace", "-w", help="Workspace name or id."),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    """Refit the workspace's lead model on the shipped corpus plus its inbox labels.

    The previous model stays when the new one scores worse on a held-out split.
    """
    with session_scope() as session:
        target = pick_workspace(session, workspace)
        result = lead_learning.retrain(session, target.id, utcnow())
    if as_json:
        dump(result)
        return
    verdict = "replaced the previous model" if result["replaced"] else "kept the previous model"
    console.print(
        f"Trained on the corpus and {result['labels']} inbox labels: {verdict} "
        f"(held-out F1 {result['new_f1']:.3f} vs {result['previous_f1']:.3f}, "
        f"{result['held_out']} items)."
    )
