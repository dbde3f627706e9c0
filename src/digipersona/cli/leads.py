from __future__ import annotations

import typer

from digipersona.cli.context import console, dump, friendly_errors
from digipersona.interactions.leads import score_lead

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
