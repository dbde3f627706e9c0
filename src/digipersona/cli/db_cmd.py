from __future__ import annotations

import typer

from digipersona import db
from digipersona.cli.context import console, friendly_errors, load_settings

app = typer.Typer(help="Database migrations.", no_args_is_help=True)


@app.command("upgrade")
@friendly_errors
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations (SQLite or PostgreSQL, from DIGIPERSONA_DATABASE_URL)."""
    settings = load_settings()
    db.upgrade(settings.effective_database_url, revision)
    engine = db.make_engine(settings.effective_database_url)
    try:
        console.print(f"Database at revision {db.current_revision(engine)}.")
    finally:
        engine.dispose()
