from __future__ import annotations

import logging
import os
import threading
from types import FrameType

import typer
import uvicorn

from digipersona.cli.context import console, friendly_errors, load_settings

logger = logging.getLogger("digipersona.serve")
# After the graceful period uvicorn cancels what is left; give that this long before exiting.
FORCE_EXIT_AFTER_CANCEL_SECONDS = 3.0


class GracefulServer(uvicorn.Server):
    """A uvicorn server that exits within its grace period even when a request is stuck.

    uvicorn cancels the requests still running when ``timeout_graceful_shutdown`` has passed,
    but a synchronous endpoint runs in a worker thread that cannot be cancelled, and Python
    waits for such threads before the process ends. A stuck request (a long computation, a
    lock that never comes) would keep ``serve`` alive after SIGTERM until the supervisor kills
    it without a word. The watchdog armed by the first signal ends the process instead.
    """

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self.should_exit:
            grace = self.config.timeout_graceful_shutdown or 0
            watchdog = threading.Timer(grace + FORCE_EXIT_AFTER_CANCEL_SECONDS, _force_exit)
            watchdog.daemon = True
            watchdog.start()
        super().handle_exit(sig, frame)


def _force_exit() -> None:
    stuck = [t.name for t in threading.enumerate() if t.is_alive() and not t.daemon]
    logger.error(
        "serve: still busy after the shutdown grace period (threads: %s); exiting anyway",
        ", ".join(stuck) or "none",
    )
    logging.shutdown()
    os._exit(1)


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
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        proxy_headers=True,
        timeout_graceful_shutdown=max(1, round(settings.shutdown_grace_seconds)),
    )
    GracefulServer(config).run()
