"""The HTTP edge, as plain ASGI middleware: request ids, access log, metrics, body limits, headers.

Plain ASGI rather than ``BaseHTTPMiddleware``: the request body streams through untouched (never
buffered here), an exception from a route reaches us in the same task, and response headers are
added to the ``http.response.start`` message without copying the body.

Order, outermost first (``app.py``): compression (Starlette's ``GZipMiddleware``), sessions
(``LeanSessionMiddleware``), ``RequestContextMiddleware``, ``BodyLimitMiddleware``, then the
routes. The request context is
outside the body limit so a 413 is logged and counted like any answer; the session is outside
both so the 500 page can use it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from digipersona.kit.logging import request_id_var
from digipersona.kit.metrics import HTTP_LATENCY, HTTP_REQUESTS
from digipersona.web import problems

logger = logging.getLogger("digipersona.http")

# No inline script anywhere: every script is a file under /static. Styles likewise, except on the
# API docs page (Swagger UI sets inline styles). form-action is left open on purpose: connecting
# an account posts a form that redirects to the platform's consent page.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)
HSTS = "max-age=31536000"


@dataclass(frozen=True)
class RouteBodyLimit:
    """A route whose requests may carry more (or less) than the general limit."""

    route: BaseRoute
    max_bytes: int


class BodyTooLarge(HTTPException):
    """The body outgrew its limit while streaming in; the global handlers render the 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")


class BodyLimitMiddleware:
    """Refuse a body over the limit: by ``Content-Length`` at once, else as the bytes stream in.

    Counting what ``receive`` hands over covers chunked requests, which carry no length; the
    byte that crosses the limit raises ``BodyTooLarge`` from ``receive``, so the route never
    sees more than the limit plus one chunk, and the server stops reading the socket.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, routes: Sequence[RouteBodyLimit] = ()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.routes = tuple(routes)

    def limit_for(self, scope: Scope) -> int:
        """The byte limit of the route this request is for."""
        for special in self.routes:
            if special.route.matches(scope)[0] is Match.FULL:
                return special.max_bytes
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(limit, scope)(scope, receive, send)
            return

        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge(limit)
            return message

        async def send_closing(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if exceeded:
                    # The rest of the body is still on the wire: close instead of reading it.
                    MutableHeaders(scope=message)["connection"] = "close"
            await send(message)

        try:
            await self.app(scope, limited_receive, send_closing)
        except BodyTooLarge:
            # Read outside any route (nothing rendered it yet): answer here.
            if started:
                raise
            await _too_large(limit, scope)(scope, receive, send_closing)


def _too_large(limit: int, scope: Scope) -> JSONResponse:
    return JSONResponse(
        problems.problem(
            413, f"The request body is larger than {limit} bytes.", instance=scope["path"]
        ),
        status_code=413,
        media_type=problems.PROBLEM_JSON,
        headers={"Connection": "close"},
    )


class LeanSessionMiddleware(SessionMiddleware):
    """Starlette's signed-cookie sessions, except on paths that never read them.

    The session decodes and verifies the cookie on every request and signs it again into
    every answer; probes, metrics scrapes and static files have no use for it.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        skip: Sequence[str],
        skip_prefixes: Sequence[str],
        secret_key: str,
        session_cookie: str,
        max_age: int,
        same_site: Literal["lax", "strict", "none"],
        https_only: bool,
    ) -> None:
        super().__init__(
            app,
            secret_key=secret_key,
            session_cookie=session_cookie,
            max_age=max_age,
            same_site=same_site,
            https_only=https_only,
        )
        self.skip = frozenset(skip)
        self.skip_prefixes = tuple(skip_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path in self.skip or path.startswith(self.skip_prefixes):
                await self.app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


class RequestContextMiddleware:
    """Request id, security headers, the access log line and metrics; turns crashes into 500s.

    An exception that no handler took is logged here with the request id and its traceback,
    answered with a 500 problem (a page for browser routes) and counted, so the keep-alive
    connection survives and the operator can find the failure from the id the client saw.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        hsts: bool,
        docs_path: str | None,
        static_prefixes: tuple[str, ...] = ("/static/",),
    ) -> None:
        self.app = app
        self.hsts = hsts
        self.docs_path = docs_path
        self.static_prefixes = static_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        rid = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                self._add_headers(MutableHeaders(scope=message), scope, rid)
            await send(message)

        try:
            try:
                await self.app(scope, receive, send_with_headers)
            except Exception:
                logger.exception("unhandled error on %s %s", scope["method"], scope["path"])
                if response_started:
                    # Too late for a 500: the connection ends, the count and log say 500.
                    status = 500
                else:
                    response = problems.unexpected_error_response(Request(scope, receive))
                    await response(scope, receive, send_with_headers)
        finally:
            self._record(scope, status, time.perf_counter() - started)
            request_id_var.reset(token)

    def _add_headers(self, headers: MutableHeaders, scope: Scope, rid: str) -> None:
        headers["X-Request-ID"] = rid
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        path: str = scope["path"]
        if not path.startswith(self.static_prefixes):
            # Answers carry tokens (login, refresh, new API tokens) and pages show secrets once
            # (a new token, a signing secret in a flash): none of it may land in a disk cache.
            headers.setdefault("Cache-Control", "no-store")
        if headers.get("content-type", "").startswith("text/html"):
            csp = (
                DOCS_CONTENT_SECURITY_POLICY if path == self.docs_path else CONTENT_SECURITY_POLICY
            )
            headers.setdefault("Content-Security-Policy", csp)
        if self.hsts:
            headers.setdefault("Strict-Transport-Security", HSTS)

    @staticmethod
    def _record(scope: Scope, status: int, elapsed: float) -> None:
        method, path = scope["method"], scope["path"]
        route_path = getattr(scope.get("route"), "path", "unmatched")
        HTTP_REQUESTS.labels(method, route_path, str(status)).inc()
        HTTP_LATENCY.labels(route_path).observe(elapsed)
        # The one access line per request (serve turns uvicorn's own off): the client's
        # address as uvicorn resolved it (X-Forwarded-For only from trusted proxies).
        client = scope.get("client")
        address = f"{client[0]}:{client[1]}" if client else "-"
        logger.info(
            "%s %s %s %.1fms %s",
            method,
            path,
            status,
            elapsed * 1000,
            address,
            extra={
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round(elapsed * 1000, 1),
                "client": address,
            },
        )
