"""No route that touches the database runs on the event loop.

The session is synchronous: an ``async def`` view that uses it (or awaits nothing while a query
runs) stops every other request of the process, ``/healthz`` included, until the query ends.
Views are plain ``def`` (FastAPI runs them in its threadpool); the few ``async def`` routes left
are async end to end.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute

from digipersona.app import create_app
from digipersona.db import get_session, get_sessionmaker
from tests.conftest import make_settings

# Truly async: the event stream awaits its queries in the threadpool between sleeps; the
# streamed drafting runs its preparation in the threadpool and the model and the saving on a
# worker thread, awaiting only its queue; the liveness probe touches nothing.
ASYNC_ROUTES = {
    "digipersona.web.events.events",
    "digipersona.posts.endpoints.generate_stream",
    "digipersona.app._ops_router.<locals>.healthz",
}


def _name(call: Any) -> str:
    return f"{call.__module__}.{call.__qualname__}"


def _async_database_dependencies(dependant: Any) -> list[str]:
    """Async dependencies whose own dependencies open a session (they would query on the loop)."""
    found = []
    for dep in dependant.dependencies:
        if inspect.iscoroutinefunction(dep.call) and _opens_session(dep):
            found.append(_name(dep.call))
        found.extend(_async_database_dependencies(dep))
    return found


def _opens_session(dependant: Any) -> bool:
    return any(
        d.call in (get_session, get_sessionmaker) or _opens_session(d)
        for d in dependant.dependencies
    )


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    """Every endpoint, also inside included routers (FastAPI keeps those as one entry)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif getattr(route, "original_router", None) is not None:
            found.extend(_api_routes(route.original_router.routes))
    return found


def test_no_route_runs_database_work_on_the_event_loop(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, f"sqlite:///{tmp_path / 'routes.db'}"))
    routes = _api_routes(app.routes)
    assert len(routes) > 100  # every domain's routers are included
    async_routes = {_name(r.endpoint) for r in routes if inspect.iscoroutinefunction(r.endpoint)}
    assert async_routes <= ASYNC_ROUTES, sorted(async_routes - ASYNC_ROUTES)
    offenders = [name for r in routes for name in _async_database_dependencies(r.dependant)]
    assert offenders == []
    app.state.http.close()
