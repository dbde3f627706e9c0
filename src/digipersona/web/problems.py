"""One place that turns errors into responses: problem+json for the API, pages for HTML."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from digipersona.exceptions import DigipersonaError, ServiceUnavailable, Unauthorized
from digipersona.web.templating import render

logger = logging.getLogger("digipersona.errors")
PROBLEM_JSON = "application/problem+json"

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
# When a request found no free database connection: soon, but not at once.
POOL_RETRY_AFTER_SECONDS = 2


class FieldProblem(BaseModel):
    """One invalid input of a 422."""

    field: str = Field(description="Dotted path of the input, e.g. 'slots.0' or 'offset'")
    message: str


class ProblemDetails(BaseModel):
    """An RFC 9457 problem details document, the body of every API error.

    Some problems add members that say the current state, e.g. ``current_version`` on a 409.
    """

    model_config = ConfigDict(extra="allow", title="ProblemDetails")

    type: str = Field(description="A URI naming the kind of problem, or 'about:blank'")
    title: str
    status: int
    detail: str = Field(description="What happened and what to do about it")
    instance: str | None = Field(default=None, description="The request path")
    errors: list[FieldProblem] | None = Field(
        default=None, description="One entry per invalid input, on 422"
    )


# What any API operation may answer besides its success; every one is problem+json.
API_ERRORS: dict[str, str] = {
    "400": "Malformed request, e.g. a body that is not valid JSON.",
    "401": "Missing, expired or revoked credentials.",
    "403": "The role or the token's scopes do not allow this (or the CSRF check failed).",
    "404": "No such object in this workspace.",
    "409": "The object's state or a uniqueness rule forbids this; says the current state.",
    "410": "A link or token that existed but expired.",
    "413": "The request body is too large.",
    "422": "Well-formed input that breaks a rule; 'errors' names each field.",
    "429": "Too many requests; retry after the Retry-After header's seconds.",
    "5XX": "A failure on our side (logged) or of an AI provider or platform.",
}


def _fastapi_default(response: dict[str, Any]) -> bool:
    return "HTTPValidationError" in json.dumps(response)


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the problem+json error answers on every API operation of an OpenAPI document.

    Replaces FastAPI's default 422 (a JSON shape the API never sends) with ``ProblemDetails``.
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem_schema.pop("$defs", {}))
    components["ProblemDetails"] = problem_schema
    content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
    for path, item in schema.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            for status, description in API_ERRORS.items():
                # An operation that declares its own answer for a status keeps it.
                if status not in responses or _fastapi_default(responses[status]):
                    responses[status] = {"description": description, "content": content}
    if "#/components/schemas/HTTPValidationError" not in json.dumps(schema.get("paths", {})):
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
    return schema


def wants_html(request: Request) -> bool:
    """Pages answer errors with pages; the API and operations endpoints with problem+json."""
    path = request.url.path
    return not (
        path.startswith(("/api/", "/static/"))
        or path in {"/healthz", "/readyz", "/metrics", "/openapi.json"}
    )


def problem(
    status: int,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    instance: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return body


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def _validation_errors(exc: RequestValidationError) -> tuple[int, str, list[dict[str, Any]]]:
    errors = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx", {})
            return (
                400,
                f"Malformed JSON body: {ctx.get('error', 'cannot parse')}. Send valid JSON.",
                [],
            )
        message = str(err.get("msg", "invalid value"))
        message = message.removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden":
            message = "unknown field: remove it"
        if err.get("type") == "missing":
            message = "this field is required"
        errors.append({"field": _field(tuple(err.get("loc", ()))), "message": message})
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return 422, f"Invalid request: {summary}", errors


def _render_html_error(request: Request, status: int, message: str) -> Response:
    return render(request, "error.html", {"status": status, "message": message}, status_code=status)


def install(app: FastAPI) -> None:
    """Register the global exception handlers and document them in the OpenAPI schema."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(DigipersonaError)
    async def _domain(request: Request, exc: DigipersonaError) -> Response:
        if wants_html(request):
            if isinstance(exc, Unauthorized):
                target = request.url.path
                if request.url.query:
                    target += "?" + request.url.query
                return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
            page = _render_html_error(request, exc.status_code, exc.message)
            page.headers.update(exc.headers)  # e.g. Retry-After
            return page
        return JSONResponse(
            exc.to_problem(request.url.path),
            status_code=exc.status_code,
            headers=exc.headers,
            media_type=PROBLEM_JSON,
        )

    @app.exception_handler(PoolTimeout)
    async def _busy(request: Request, exc: PoolTimeout) -> Response:
        # Every database connection stayed busy for DIGIPERSONA_DB_POOL_TIMEOUT_SECONDS: an
        # overload the client can wait out, not a crash.
        logger.warning("no free database connection for %s %s", request.method, request.url.path)
        return await _domain(
            request,
            ServiceUnavailable(
                "The server is busy: every database connection is in use. Try again shortly.",
                headers={"Retry-After": str(POOL_RETRY_AFTER_SECONDS)},
            ),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        status, detail, errors = _validation_errors(exc)
        if wants_html(request):
            return _render_html_error(request, status, detail)
        return JSONResponse(
            problem(status, detail, errors=errors, instance=request.url.path),
            status_code=status,
            media_type=PROBLEM_JSON,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = (
            exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
        )
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"There is nothing at {request.url.path}."
        if exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}."
        if wants_html(request):
            return _render_html_error(request, exc.status_code, detail)
        return JSONResponse(
            problem(exc.status_code, detail, instance=request.url.path),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
            media_type=PROBLEM_JSON,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # The request middleware answers route errors; this catches what fails outside it.
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return unexpected_error_response(request)


def unexpected_error_response(request: Request) -> Response:
    """The 500 answer to an error nobody handled (already logged by the caller)."""
    message = "Something went wrong on our side. It was logged; please try again."
    # The page shell needs the session; without it (an error outside the session layer) JSON.
    if wants_html(request) and "session" in request.scope:
        try:
            return _render_html_error(request, 500, message)
        except Exception:
            logger.exception("the error page itself failed to render")
    return JSONResponse(
        problem(500, message, instance=request.url.path),
        status_code=500,
        media_type=PROBLEM_JSON,
    )
