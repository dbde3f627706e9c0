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


@app.command("rotate")
@friendly_errors
def rotate() -> None:
    """Re-encrypt every stored token with the first key of DIGIPERSONA_ENCRYPTION_KEYS.

    Put the new key first, keep the old ones after it, run this, then remove the old keys.
    """
    from digipersona.cli.context import load_settings, session_scope
    from digipersona.connections.service import rotate_keys
    from digipersona.kit.crypto import TokenCipher

    settings = load_settings()
    cipher = TokenCipher(settings.encryption_key_list())
    with session_scope(settings) as session:
        count = rotate_keys(session, cipher)
    console.print(f"Re-encrypted the tokens of {count} connection(s) with the first key.")
