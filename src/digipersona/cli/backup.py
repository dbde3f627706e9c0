"""`digipersona backup` and `digipersona restore`: an embedded installation to one file and back."""

from __future__ import annotations

from pathlib import Path

import typer

from digipersona import backup as backups
from digipersona.cli.context import console, err_console, friendly_errors
from digipersona.config import Settings

SECRETS_WARNING = (
    "[bold yellow]Warning:[/] this file holds the secret key and the encryption keys: anyone "
    "who has it can sign in as any user and read every stored platform token. Keep it as safe "
    "as the server itself (encrypted storage, restricted access)."
)


@friendly_errors
def backup(
    path: Path = typer.Argument(..., help="New file to write (a tar archive, mode 0600)."),
) -> None:
    """Copy an embedded installation (database and generated secrets) while it runs."""
    # Settings without ensure_secrets(): a mistyped data dir must not get fresh secrets.
    result = backups.backup(Settings(), path)
    console.print(
        f"Backup written to {result.path} (migration {result.revision}): {', '.join(result.files)}."
    )
    err_console.print(SECRETS_WARNING)
    if result.secrets_outside:
        names = ", ".join(f"DIGIPERSONA_{name.upper()}" for name in result.secrets_outside)
        err_console.print(
            f"[bold yellow]Note:[/] {names} come from the environment and are not in the "
            "backup; keep them with it, or the restored tokens cannot be decrypted."
        )


@friendly_errors
def restore(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A backup file."),
    force: bool = typer.Option(
        False, "--force", help="Replace the database and secrets of a non-empty data dir."
    ),
) -> None:
    """Restore a backup into the data directory (empty, unless --force); stop serve first."""
    # Settings without ensure_secrets(): generating secrets would fill the data dir first.
    settings = Settings()
    manifest = backups.restore(settings, path, force=force)
    console.print(
        f"Restored into {settings.data_dir} (migration {manifest.get('revision')}); "
        "`digipersona serve` applies any newer migrations on start."
    )
