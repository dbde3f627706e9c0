from __future__ import annotations

import typer

from digipersona.analytics import forecast
from digipersona.cli.context import console, dump, friendly_errors, pick_workspace, session_scope
from digipersona.kit.words import plural

app = typer.Typer(help="Engagement analytics.", no_args_is_help=True)


@app.command("evaluate")
@friendly_errors
def evaluate(
    workspace: str = typer.Option(None, "--workspace", "-w", help="Workspace name or id."),
    as_json: bool = typer.Option(False, "--json", help="Print the evaluation as JSON."),
) -> None:
    """Accuracy of the engagement prediction on held-out history vs the majority band."""
    with session_scope() as session:
        target = pick_workspace(session, workspace)
        result = forecast.evaluate_workspace(session, target.id)
    if as_json:
        dump(result)
        return
    if result["status"] != "ok":
        console.print(
            f"Not enough history: {result['measured_posts']} measured posts, "
            f"{result['needed']} needed. Nothing to evaluate yet."
        )
        return
    console.print(
        f"Trained on the oldest {plural(result['train_size'], 'post')}, tested on the newest "
        f"{result['test_size']} (chronological split)."
    )
    console.print(f"accuracy          {result['accuracy']:.3f}")
    console.print(
        f"baseline accuracy {result['baseline_accuracy']:.3f} "
        f"(always '{result['baseline_band']}', the most common band in training)"
    )
    console.print("confusion (rows: actual, columns: predicted low/medium/high):")
    for band, row in result["confusion"].items():
        console.print(f"  {band:<7} " + " ".join(f"{row[b]:>4}" for b in ("low", "medium", "high")))
