from __future__ import annotations

import typer
import uvicorn

from digipersona.cli.context import console, friendly_errors, load_settings


@friendly_errors
def serve(
    host: str = typer.Option(None, help="Address to bind (default DIGIPERSONA_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default DIGIPERSONA_PORT or 8000)."),
) -> None:
    """Run the web UI and API (and, in embedded mode, apply migrations first)."""
    from digipersona.app import create_app

    settings = load_settings()
    host = host or settings.host
    port = port or settings.port
    app = create_app(settings)
    console.print(f"digipersona on http://{host}:{port}  (data: {settings.data_dir})")
    uvicorn.run(app, host=host, port=port, log_config=None, proxy_headers=True)
