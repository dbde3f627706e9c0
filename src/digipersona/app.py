"""FastAPI application factory and lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.middleware.gzip import GZipMiddleware

from digipersona import __version__, db
from digipersona.config import Settings, get_settings
from digipersona.exceptions import Unauthorized
from digipersona.kit.crypto import TokenCipher
from digipersona.kit.http import make_http_client
from digipersona.kit.logging import configure_logging
from digipersona.kit.metrics import exposition
from digipersona.kit.ratelimit import build_limiter
from digipersona.kit.security import constant_time_equals
from digipersona.monitoring.gauges import gauges_registry
from digipersona.web import problems
from digipersona.web.middleware import (
    BodyLimitMiddleware,
    LeanSessionMiddleware,
    RequestContextMiddleware,
    RouteBodyLimit,
)
from digipersona.web.static_files import STATIC_DIR, FingerprintedStaticFiles, static_url
from digipersona.worker import runtime
from digipersona.worker.processes import HelperProcesses

# Swagger UI's files, from a package that bundles them: /api/docs loads nothing from a CDN.
SWAGGER_UI_DIR = Path(fastapi_offline.__file__).parent / "static"
DOCS_URL = "/api/docs"
# Multipart framing and the alt text around an image of the largest accepted size.
UPLOAD_OVERHEAD_BYTES = 64 * 1024
GZIP_MINIMUM_BYTES = 1024
# Probes and scrapes: no session, no thread (see _ops_router).
OPERATIONS_PATHS = ("/healthz", "/readyz", "/metrics")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; ``settings`` defaults to the environment's (tests pass their own)."""
    settings = (settings or get_settings()).ensure_secrets()
    configure_logging(settings.log_level, settings.log_format)
    for warning in settings.startup_warnings():
        logging.getLogger("digipersona.config").warning(warning)

    engine = db.make_engine(settings.effective_database_url, **_web_engine_options(settings))

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
        async with app.state.mcp.running():
            yield
        if helpers is not None:
            helpers.stop()
        if dispatcher is not None:
            dispatcher.stop()
            runtime.set_runtime(None)
            if app.state.dispatch_engine is not engine:
                app.state.dispatch_engine.dispose()
        app.state.http.close()
        engine.dispose()

    app = FastAPI(
        title="digipersona",
        version=__version__,
        description="Self-hosted multi-persona social media autopilot. Errors are RFC 9457 "
        "problem+json documents.",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = db.make_sessionmaker(engine)
    app.state.gauges_registry = gauges_registry(app.state.sessionmaker)
    app.state.limiter = build_limiter(settings.effective_redis_url)
    app.state.cipher = TokenCipher(settings.encryption_key_list())
    app.state.http = make_http_client(settings.platform_timeout_seconds)
    from digipersona.notifications import delivery, push

    app.state.vapid = push.load_vapid(settings.data_dir)
    delivery.configure(settings, app.state.sessionmaker, app.state.cipher, app.state.vapid)

    problems.install(app)
    _include_routers(app)
    _mount_mcp(app, settings)
    _install_middleware(app, settings)
    app.mount(f"{DOCS_URL}/assets", StaticFiles(directory=SWAGGER_UI_DIR), name="docs-assets")
    app.mount("/static", FingerprintedStaticFiles(directory=STATIC_DIR), name="static")
    return app


def _web_engine_options(settings: Settings) -> dict[str, Any]:
    """The request engine: a short wait for a connection (then 503), a small SQLite cache."""
    options: dict[str, Any] = {
        "sqlite_cache_mib": settings.sqlite_cache_mib,
        "pool_timeout": settings.db_pool_timeout_seconds,
    }
    if settings.db_pool_size is not None:
        options["pool_size"] = settings.db_pool_size
    if settings.db_max_overflow is not None:
        options["max_overflow"] = settings.db_max_overflow
    return options


def _start_embedded_worker(app: FastAPI) -> Any:
    """Embedded mode: the publishing dispatcher runs in this process, on this database."""
    from digipersona.worker.embedded import Dispatcher

    settings: Settings = app.state.settings
    factory = app.state.sessionmaker
    # Its own few connections, never the requests' pool: under load every request connection
    # is taken and a request waits at most ``db_pool_timeout_seconds`` (then 503); the
    # dispatcher sharing that pool timed out there ("dispatcher tick failed; retrying" on
    # PostgreSQL under the API benchmark). One connection for the dispatcher thread, the rest
    # for the periodic jobs and token refreshes; the default (30 s) wait for one of them.
    options: dict[str, Any] = {"pool_size": 1, "max_overflow": 3}
    if db.sqlite_file(settings.effective_database_url) is not None:
        # And a large page cache (the claim reads the due index and the rows of every batch),
        # which the requests' many small-cache connections lack.
        options["sqlite_cache_mib"] = settings.dispatch_sqlite_cache_mib
    url = settings.effective_database_url
    if url.startswith("sqlite") and db.sqlite_file(url) is None:
        app.state.dispatch_engine = app.state.engine  # in memory: only that engine sees it
    else:
        app.state.dispatch_engine = db.make_engine(url, **options)
        factory = db.make_sessionmaker(app.state.dispatch_engine)
    rt = runtime.build_runtime(settings, factory=factory, http=app.state.http)
    runtime.set_runtime(rt)
    dispatcher = Dispatcher.for_settings(rt.engine, settings)
    dispatcher.start()
    app.state.dispatcher = dispatcher
    return dispatcher


def _include_routers(app: FastAPI) -> None:
    from digipersona.ai import endpoints as ai_api
    from digipersona.ai import views as ai_views
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
    from digipersona.posts import media_views as posts_media_views
    from digipersona.posts import review_link_endpoints as review_links_api
    from digipersona.posts import review_link_views as review_links_views
    from digipersona.posts import views as posts_views
    from digipersona.publishing import endpoints as publishing_api
    from digipersona.publishing import views as publishing_views
    from digipersona.web import events, pages
    from digipersona.workspaces import audit_views
    from digipersona.workspaces import endpoints as workspaces_api
    from digipersona.workspaces import views as workspaces_views

    app.include_router(_ops_router())
    for router in (
        auth_api.router,
        workspaces_api.router,
        ai_api.router,
        personas_api.router,
        autopilot_api.router,
        posts_api.router,
        posts_api.library_router,
        review_links_api.router,
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
        posts_media_views.router,
        review_links_views.router,
        publishing_views.router,
        ai_views.router,
        workspaces_views.router,
        audit_views.router,
        analytics_views.router,
        notifications_views.router,
        notifications_views.page_router,
        events.router,
        pages.router,
    ):
        app.include_router(router, include_in_schema=False)


def _mount_mcp(app: FastAPI, settings: Settings) -> None:
    """Streamable HTTP for AI assistants at /mcp (Bearer API token; see mcp/transports.py).

    Imported here like the routers: the MCP SDK loads only when an app is built.
    """
    from digipersona.mcp.transports import PATH, HttpEndpoint

    app.state.mcp = HttpEndpoint(app.state.sessionmaker, settings)
    app.add_route(PATH, app.state.mcp, methods=["GET", "POST", "DELETE"], include_in_schema=False)


def _ops_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is up."""
        # On the event loop: a plain def would wait for a threadpool thread, which under load
        # are all busy with requests, and a liveness probe would fail a working server.
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
    def metrics(request: Request) -> Response:
        """Prometheus text format; with DIGIPERSONA_METRICS_TOKEN set, only for that bearer."""
        settings: Settings = request.app.state.settings
        expected = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
        if expected:
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not constant_time_equals(given.strip(), expected):
                raise Unauthorized("The metrics need the bearer token DIGIPERSONA_METRICS_TOKEN.")
        body = exposition(request.app.state.gauges_registry)
        return PlainTextResponse(body, media_type=CONTENT_TYPE_LATEST)

    @router.get(DOCS_URL, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        """Swagger UI from local files, started by a script file (the CSP allows no inline one)."""
        return HTMLResponse(_DOCS_PAGE.replace("{api_docs_js}", static_url("api-docs.js")))

    return router


_DOCS_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>digipersona API</title>
<link rel="stylesheet" href="{DOCS_URL}/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="/openapi.json"></div>
<script src="{DOCS_URL}/assets/swagger-ui-bundle.js"></script>
<script src="{{api_docs_js}}"></script>
</body>
</html>
"""


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    """The edge, outermost last (see ``web/middleware.py`` for why in this order)."""
    from digipersona.posts import endpoints as posts_api
    from digipersona.posts import media_views
    from digipersona.posts.bulk import MAX_IMPORT_BYTES
    from digipersona.posts.media import MAX_UPLOAD_BYTES

    # The route object itself (its router is included without a further prefix), not a copy of
    # its path: the limit follows the route if its path changes.
    larger = [
        RouteBodyLimit(route, MAX_UPLOAD_BYTES + UPLOAD_OVERHEAD_BYTES)
        for route in [*posts_api.router.routes, *media_views.router.routes]
        if getattr(route, "endpoint", None) in (posts_api.upload_media, media_views.upload)
    ]
    if len(larger) != 2:
        raise RuntimeError("the image upload route is gone: update its body limit here")
    # A bulk import of up to 10,000 rows (bulk.MAX_IMPORT_BYTES, the CSV field's bound).
    imports = [
        RouteBodyLimit(route, MAX_IMPORT_BYTES)
        for route in posts_api.router.routes
        if getattr(route, "endpoint", None) is posts_api.import_content
    ]
    if len(imports) != 1:
        raise RuntimeError("the bulk import route is gone: update its body limit here")
    larger += imports
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, routes=larger)
    static_prefixes = ("/static/", f"{DOCS_URL}/assets/")
    app.add_middleware(
        RequestContextMiddleware,
        hsts=settings.public_base_url.startswith("https://"),
        docs_path=DOCS_URL,
        static_prefixes=static_prefixes,
    )
    app.add_middleware(
        LeanSessionMiddleware,
        skip=OPERATIONS_PATHS,
        skip_prefixes=static_prefixes,
        secret_key=settings.secret_key_value(),
        session_cookie="digipersona_session",
        max_age=14 * 24 * 3600,
        same_site="lax",
        https_only=settings.effective_cookie_secure,
    )
    # Pages, JSON and text files compressed; never the event stream (it would be held back until
    # a buffer fills), images or fonts (Starlette's exclusions), nor bodies under 1 KiB. Level
    # 6 gets most of level 9's gain for a fraction of its CPU. The CSRF token on pages is
    # masked per page (auth/dependencies.py) so compression reveals nothing about it (BREACH).
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=6)
