from __future__ import annotations

import typer

from digipersona.auth import service as auth
from digipersona.cli.context import console, friendly_errors, load_settings, session_scope

app = typer.Typer(help="User accounts.", no_args_is_help=True)


@app.command("create")
@friendly_errors
def create(
    email: str = typer.Option(..., help="Login email."),
    password: str = typer.Option(..., help="Password (at least 10 characters)."),
    workspace: str = typer.Option(None, help="Name of the user's new workspace."),
) -> None:
    """Create a user with their own workspace (works whatever DIGIPERSONA_REGISTRATION says)."""
    from pydantic import EmailStr, TypeAdapter, ValidationError

    from digipersona.exceptions import ValidationFailed

    try:
        TypeAdapter(EmailStr).validate_python(email)
    except ValidationError as exc:
        raise ValidationFailed(f"{email!r} is not a valid email address.") from exc
    settings = load_settings().model_copy(update={"registration": "open"})
    with session_scope(settings) as session:
        user, ws, _ = auth.register(
            session, settings, email=email, password=password, workspace_name=workspace
        )
        console.print(f"Created user {user.email} (owner of workspace {ws.name!r}, id {ws.id}).")
