"""FastAPI application factory and lifespan."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.middleware.sessions import SessionMiddleware

from digipersona import __version__, db
from digipersona.config import Settings, get_settings
from digipersona.kit.crypto import TokenCipher
from digipersona.kit.http import make_http_client
from digipersona.kit.logging import configure_logging, request_id_var
from digipersona.kit.metrics import HTTP_LATENCY, HTTP_REQUESTS, REGISTRY
from digipersona.kit.ratelimit import build_limiter
from digipersona.web import problems
from digipersona.worker import runtime
from digipersona.worker.processes import HelperProcesses

logger = logging.getLogger("digipersona.http")
STATIC_DIR = Path(__file__).parent / "web" / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; ``settings`` defaults to the environment's (tests pass their own)."""
    settings = (settings or get_settings()).ensure_secrets()
    configure_logging(settings.log_level, settings.log_format)

    engine = db.make_engine(settings.effective_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.is_sqlite and settings.auto_migrate:
            db.upgrade(settings.effective_database_url)
        dispatcher = None
        helpers: HelperProcesses | None = None
        if settings.embedded_worker and not settings.broker_url:
            dispatcher = _start_embedded_worker(app)
            if settings.dispatch_processes > 1:
                helpers = HelperProcesses(settings, settings.dispatch_processes - 1)
                helpers.start()
                app.state.helpers = helpers
        yield
        if helpers is not None:
            helpers.stop()
        if dispatcher is not None:
            dispatcher.stop()
            runtime.set_runtime(None)
        app.state.http.close()
        engine.dispose()

    app = FastAPI(
        title="digipersona",
        version=__version__,
        description="Self-hosted multi-persona social media autopilot. Errors are RFC 9457 "
        "problem+json documents.",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = db.make_sessionmaker(engine)
    app.state.limiter = build_limiter(settings.effective_redis_url)
    app.state.cipher = TokenCipher(settings.encryption_key_list())
    app.state.http = make_http_client(settings.platform_timeout_seconds)
    from digipersona.notifications import delivery, push

    app.state.vapid = push.load_vapid(settings.data_dir)
    push.configure(app.state.sessionmaker, app.state.vapid, f"mailto:{settings.smtp_from}")
    delivery.configure(settings, app.state.sessionmaker, app.state.cipher)

    problems.install(app)
    _install_middleware(app, settings)
    _include_routers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def _start_embedded_worker(app: FastAPI) -> Any:
    """Embedded mode: the publishing dispatcher runs in this process, on this database."""
    from digipersona.worker.embedded import Dispatcher

    settings: Settings = app.state.settings
    rt = runtime.build_runtime(settings, factory=app.state.sessionmaker, http=app.state.http)
    runtime.set_runtime(rt)
    dispatcher = Dispatcher.for_settings(rt.engine, settings)
    dispatcher.start()
    app.state.dispatcher = dispatcher
    return dispatcher


def _include_routers(app: FastAPI) -> None:
    from digipersona.analytics import endpoints as analytics_api
    from digipersona.analytics import views as analytics_views
    from digipersona.auth import endpoints as auth_api
    from digipersona.auth import views as auth_views
    from digipersona.autopilot import endpoints as autopilot_api
    from digipersona.autopilot import views as autopilot_views
    from digipersona.connections import endpoints as connections_api
    from digipersona.connections import views as connections_views
    from digipersona.interactions import endpoints as interactions_api
    from digipersona.interactions import views as interactions_views
    from digipersona.notifications import endpoints as notifications_api
    from digipersona.notifications import views as notifications_views
    from digipersona.personas import endpoints as personas_api
    from digipersona.personas import views as personas_views
    from digipersona.posts import endpoints as posts_api
    from digipersona.posts import views as posts_views
    from digipersona.publishing import endpoints as publishing_api
    from digipersona.publishing import views as publishing_views
    from digipersona.web import events, pages
    from digipersona.workspaces import endpoints as workspaces_api
    from digipersona.workspaces import views as workspaces_views

    app.include_router(_ops_router())
    for router in (
        auth_api.router,
        workspaces_api.router,
        personas_api.router,
        autopilot_api.router,
        posts_api.router,
        publishing_api.router,
        connections_api.router,
        interactions_api.router,
        notifications_api.router,
        analytics_api.router,
    ):
        app.include_router(router)
    app.include_router(publishing_api.feed_router, include_in_schema=False)
    for router in (
        auth_views.router,
        personas_views.router,
        autopilot_views.router,
        connections_views.router,
        interactions_views.router,
        posts_views.router,
        publishing_views.router,
        workspaces_views.router,
        analytics_views.router,
        notifications_views.router,
        notifications_views.page_router,
        events.router,
        pages.router,
    ):
        app.include_router(router, include_in_schema=False)


def _ops_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok", "version": __version__}

    @router.get("/readyz")
    def readyz(request: Request) -> Response:
        """The database is reachable and migrations are current."""
        engine = request.app.state.engine
        checks: dict[str, str] = {}
        ok = True
        try:
            db.ping(engine)
            checks["database"] = "ok"
            current, head = db.current_revision(engine), db.head_revision()
            if current == head:
                checks["migrations"] = "ok"
            else:
                ok = False
                checks["migrations"] = (
                    f"at {current}, expected {head}: run `digipersona db upgrade`"
                )
            settings: Settings = request.app.state.settings
            if settings.readiness_requires_scheduler:
                from digipersona.kit.time import utcnow
                from digipersona.publishing.calendar import scheduler_alive

                with request.app.state.sessionmaker() as session:
                    alive = scheduler_alive(session, utcnow(), settings.scheduler_stale_seconds)
                checks["scheduler"] = "ok" if alive else "no scheduler heartbeat recently"
                ok = ok and alive
        except Exception as exc:  # any driver error means "not ready"
            ok = False
            checks["database"] = f"unreachable: {type(exc).__name__}"
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503
        )

    @router.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> Response:
        """Prometheus text format."""
        return PlainTextResponse(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        incoming = request.headers.get("x-request-id", "")
        rid = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        token = request_id_var.set(rid)
        started = time.perf_counter()
        try:
            length = request.headers.get("content-length")
            if length and length.isdigit() and int(length) > settings.max_body_bytes:
                response: Response = JSONResponse(
                    problems.problem(
                        413,
                        f"The request body is larger than {settings.max_body_bytes} bytes.",
                        instance=request.url.path,
                    ),
                    status_code=413,
                    media_type=problems.PROBLEM_JSON,
                )
            else:
                response = await call_next(request)
            elapsed = time.perf_counter() - started
            route = request.scope.get("route")
            route_path = getattr(route, "path", "unmatched")
            HTTP_REQUESTS.labels(request.method, route_path, str(response.status_code)).inc()
            HTTP_LATENCY.labels(route_path).observe(elapsed)
            response.headers["X-Request-ID"] = rid
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            response.headers.setdefault("X-Frame-Options", "DENY")
            logger.info(
                "%s %s %s %.1fms",
                request.method,
                request.url.path,
                response.status_code,
                elapsed * 1000,
                extra={
                    "method": request.method,
                    "path": request.url.path,
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )
            return response
        finally:
            request_id_var.reset(token)

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key_value(),
        session_cookie="digipersona_session",
        max_age=14 * 24 * 3600,
        same_site="lax",
        https_only=settings.effective_cookie_secure,
    )
