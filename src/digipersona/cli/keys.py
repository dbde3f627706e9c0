from __future__ import annotations

import typer

from digipersona.cli.context import console, friendly_errors
from digipersona.kit.crypto import generate_key

app = typer.Typer(help="Encryption keys for tokens at rest.", no_args_is_help=True)


@app.command("generate")
@friendly_errors
def generate() -> None:
    """Print a new key; put it first in DIGIPERSONA_ENCRYPTION_KEYS to start using it."""
    console.print(generate_key())
