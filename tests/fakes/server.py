"""Run a test server on 127.0.0.1, on a free port, in a background thread.

``serve(app)`` accepts any of:

- a WSGI callable ``app(environ, start_response)`` (served by ``wsgiref`` with a thread per request),
- an ``http.server.BaseHTTPRequestHandler`` subclass,
- an ASGI app (``async def app(scope, receive, send)``, e.g. FastAPI/Starlette), served by uvicorn.

It is a context manager yielding a ``RunningServer`` with ``.url`` (``http://127.0.0.1:<port>``)
and ``.port``; leaving the block stops the server. Usage::

    with serve(my_wsgi_app) as server:
        httpx.get(server.url + "/health")

A WSGI app that must stop blocking when the server stops (a fake that simulates a slow upstream)
can expose a ``shutdown()`` method; ``serve`` calls it before stopping the server.
"""

from __future__ import annotations

import inspect
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import ThreadingMixIn
from typing import Any, Literal
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

Kind = Literal["wsgi", "asgi", "handler"]


@dataclass(frozen=True)
class RunningServer:
    """Where a started server listens."""

    host: str
    port: int

    @property
    def url(self) -> str:
        """Base URL without a trailing slash."""
        return f"http://{self.host}:{self.port}"


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # A request blocked in a fake's delay must not hold up shutdown.
    block_on_close = False


class _QuietWSGIHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (for servers that must be told their port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def detect_kind(app: Any) -> Kind:
    """Tell a handler class, an ASGI app and a WSGI callable apart."""
    if inspect.isclass(app) and issubclass(app, BaseHTTPRequestHandler):
        return "handler"
    call = app if inspect.isfunction(app) or inspect.ismethod(app) else type(app).__call__
    if inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(app):
        return "asgi"
    return "wsgi"


@contextmanager
def serve(
    app: Any, *, host: str = "127.0.0.1", kind: Kind | None = None
) -> Iterator[RunningServer]:
    """Serve ``app`` on ``host`` and a free port until the block exits."""
    kind = kind or detect_kind(app)
    if kind == "asgi":
        with _serve_asgi(app, host) as running:
            yield running
        return
    if kind == "handler":
        server: Any = ThreadingHTTPServer((host, 0), app)
        server.daemon_threads = True
        server.block_on_close = False
    else:
        server = make_server(
            host, 0, app, server_class=_ThreadingWSGIServer, handler_class=_QuietWSGIHandler
        )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield RunningServer(host, int(server.server_address[1]))
    finally:
        stop: Callable[[], None] | None = getattr(app, "shutdown", None)
        if kind == "wsgi" and callable(stop):
            stop()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def _serve_asgi(app: Any, host: str) -> Iterator[RunningServer]:
    import uvicorn

    port = free_port(host)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"uvicorn did not start on {host}:{port}")
        time.sleep(0.01)
    try:
        yield RunningServer(host, port)
    finally:
        server.should_exit = True
        thread.join(timeout=5)
