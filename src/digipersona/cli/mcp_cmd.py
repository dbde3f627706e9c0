"""``digipersona mcp``: the MCP server over stdio, for a desktop AI assistant."""

from __future__ import annotations

import anyio
import typer

from digipersona.cli.context import friendly_errors, load_settings, session_factory
from digipersona.exceptions import ValidationFailed
from digipersona.kit.logging import configure_logging
from digipersona.mcp.transports import serve_stdio


@friendly_errors
def mcp(
    token: str = typer.Option(
        "",
        "--token",
        envvar="DIGIPERSONA_API_TOKEN",
        help="An API token of the workspace (its scopes decide which tools exist); "
        "better given in DIGIPERSONA_API_TOKEN than on the command line.",
        show_default=False,
        show_envvar=True,
    ),
) -> None:
    """Serve the MCP tools over stdio for a desktop AI assistant (an API token decides what)."""
    if not token.strip():
        raise ValidationFailed(
            "No API token: set DIGIPERSONA_API_TOKEN (or pass --token). Create one on the "
            "Settings page under API tokens; a 'drafts' token can draft but never publish."
        )
    settings = load_settings()
    # stdout is the protocol's wire: logs go to stderr (configure_logging's stream).
    configure_logging(settings.log_level, settings.log_format)
    with session_factory(settings) as factory:
        anyio.run(serve_stdio, factory, settings, token.strip())
