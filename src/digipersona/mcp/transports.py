"""The two ways in: stdio for a desktop assistant, Streamable HTTP at ``/mcp`` on the server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from mcp.server.stdio import stdio_server
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from digipersona.auth import service as auth
from digipersona.config import Settings
from digipersona.db import write_scope
from digipersona.exceptions import DigipersonaError
from digipersona.mcp.server import DigipersonaMCP, bearer_of
from digipersona.web import problems

PATH = "/mcp"


async def serve_stdio(factory: sessionmaker[Session], settings: Settings, token: str) -> None:
    """Serve one assistant over this process's stdin/stdout with one API token."""
    mcp = DigipersonaMCP(factory, settings, lambda _ctx: token)
    async with stdio_server() as (read_stream, write_stream):
        await mcp.server.run(read_stream, write_stream, mcp.server.create_initialization_options())


class HttpEndpoint:
    """``/mcp``: Streamable HTTP, stateless, JSON answers; a Bearer API token on every request.

    Stateless so any web process (or replica) answers any request, like the REST API. Only the
    bearer token authenticates: the session cookie is never read, so there is no CSRF to check.
    DNS rebinding protection (a Host allow-list) is off: it guards servers that trust any local
    caller, and this one trusts no request without a token.
    """

    def __init__(self, factory: sessionmaker[Session], settings: Settings) -> None:
        self.factory = factory
        self.settings = settings
        self.mcp = DigipersonaMCP(factory, settings, bearer_of)
        self.manager = StreamableHTTPSessionManager(
            app=self.mcp.server,
            json_response=True,
            stateless=True,
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
            max_request_body_size=settings.max_body_bytes,
        )
        self.asgi = StreamableHTTPASGIApp(self.manager)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The session manager's task group, for the app's lifespan."""
        async with self.manager.run():
            yield

    def _check(self, token: str | None) -> str | None:
        if not token:
            return (
                "Send 'Authorization: Bearer <API token>' (create one under Settings, API tokens)."
            )
        try:
            with write_scope(self.factory) as session:
                auth.principal_from_bearer(session, self.settings, token, None)
        except DigipersonaError as exc:
            return exc.message
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        scheme, _, token = headers.get("authorization", "").partition(" ")
        given = token.strip() if scheme.lower() == "bearer" else None
        refusal = await anyio.to_thread.run_sync(self._check, given)
        if refusal is not None:
            response = JSONResponse(
                problems.problem(401, refusal, instance=scope["path"]),
                status_code=401,
                media_type=problems.PROBLEM_JSON,
                headers={"WWW-Authenticate": 'Bearer realm="digipersona"'},
            )
            await response(scope, receive, send)
            return
        await self.asgi(scope, receive, send)
