"""What every CLI command shares: settings, a database session, the acting principal, errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from digipersona import __version__, db
from digipersona.auth.permissions import permissions_for
from digipersona.auth.principal import Principal
from digipersona.config import ConfigError, Settings, get_settings
from digipersona.exceptions import DigipersonaError, NotFound
from digipersona.models import Role, Workspace
from digipersona.workspaces import service as workspaces_service

console = Console()
err_console = Console(stderr=True)
P = ParamSpec("P")
R = TypeVar("R")


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """User mistakes print one clear line and exit 1, never a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (DigipersonaError, ConfigError) as exc:
            err_console.print(f"[bold red]Error:[/] {getattr(exc, 'message', str(exc))}")
            raise typer.Exit(1) from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "input"
            message = str(first["msg"]).removeprefix("Value error, ")
            err_console.print(f"[bold red]Error:[/] {where}: {message}")
            raise typer.Exit(1) from None

    return wrapper


def load_settings() -> Settings:
    return get_settings()


def refuse_newer_database(settings: Settings) -> None:
    """Stop before starting when a newer digipersona has migrated the database: this code
    would read and write a schema it does not know."""
    engine = db.make_engine(settings.effective_database_url)
    try:
        revision = db.unknown_revision(engine)
    finally:
        engine.dispose()
    if revision is not None:
        raise DigipersonaError(
            f"The database is at migration {revision}, which this digipersona ({__version__}) "
            "does not know: a newer version has upgraded it. Run that newer version (or later), "
            "or restore a backup taken before the upgrade; refusing to start."
        )


@contextmanager
def session_factory(settings: Settings | None = None) -> Iterator[sessionmaker[Session]]:
    """The database's session factory, for commands that open their own units of work (those
    that wait on an AI provider must hold no transaction meanwhile)."""
    settings = settings or load_settings()
    engine = db.make_engine(settings.effective_database_url)
    if settings.is_sqlite and settings.auto_migrate:
        db.upgrade(settings.effective_database_url)
    try:
        yield db.make_sessionmaker(engine)
    finally:
        engine.dispose()


@contextmanager
def session_scope(settings: Settings | None = None) -> Iterator[Session]:
    with session_factory(settings) as factory, db.session_scope(factory) as session:
        yield session


def pick_workspace(session: Session, ref: str | None) -> Workspace:
    """A workspace by id or name; without one, the only workspace there is."""
    workspaces = workspaces_service.all_workspaces(session)
    if ref is None:
        if len(workspaces) == 1:
            return workspaces[0]
        if not workspaces:
            raise NotFound("There are no workspaces yet: run `digipersona users create` first.")
        names = ", ".join(repr(w.name) for w in workspaces)
        raise DigipersonaError(f"Several workspaces exist ({names}): choose one with --workspace.")
    for workspace in workspaces:
        if str(workspace.id) == ref or workspace.name.lower() == ref.lower():
            return workspace
    raise NotFound(f"No workspace named {ref!r}.")


def cli_principal(session: Session, workspace: Workspace) -> Principal:
    """The CLI acts as the workspace's first owner (it runs with the server's own access)."""
    user = workspaces_service.first_owner(session, workspace)
    return Principal(
        user=user,
        workspace_id=workspace.id,
        role=Role.owner,
        permissions=permissions_for(Role.owner),
        via="cli",
    )


def dump(data: Any) -> None:
    console.print_json(data=data)
