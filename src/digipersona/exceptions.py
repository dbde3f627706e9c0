"""Expected failures, each carrying the HTTP status it maps to.

Every error a user can cause or fix is a ``DigipersonaError``: the global handler renders it as
RFC 9457 problem+json for the API, a flash message for HTML pages, and one clear line in the CLI.
Nothing that is a ``DigipersonaError`` ever becomes a 500.

Hierarchy:

- ``BadRequest`` (400): malformed input the schema layer could not catch.
- ``Unauthorized`` (401): missing, expired, forged or revoked credentials.
- ``Forbidden`` (403): authenticated, but the role or token scope does not allow it.
- ``NotFound`` (404): absent, or belongs to another workspace (never 403 for those).
- ``Conflict`` (409): the object's state or a uniqueness rule forbids it; says the current state.
- ``Gone`` (410): a link or token that existed but expired.
- ``ValidationFailed`` (422): well-formed input that breaks a rule; ``errors`` lists the fields.
- ``TooManyRequests`` (429): a rate limit; ``retry_after`` in seconds.
- ``UpstreamError`` (502): an AI provider or platform failed in a way the user must know about.
- ``ServiceUnavailable`` (503): a dependency (database, broker) is down.
"""

from __future__ import annotations

from typing import Any


class DigipersonaError(Exception):
    """Base of every expected failure; ``message`` says what happened and what to fix."""

    status_code: int = 400
    title: str = "Bad request"
    type_slug: str = "bad-request"

    def __init__(
        self,
        message: str,
        status_code: int | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.errors = errors or []
        self.extra = extra or {}
        self.headers = headers or {}

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """Render as an RFC 9457 problem details object."""
        body: dict[str, Any] = {
            "type": f"https://digipersona.dev/problems/{self.type_slug}",
            "title": self.title,
            "status": self.status_code,
            "detail": self.message,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class BadRequest(DigipersonaError):
    status_code = 400
    title = "Bad request"
    type_slug = "bad-request"


class Unauthorized(DigipersonaError):
    status_code = 401
    title = "Unauthorized"
    type_slug = "unauthorized"

    def __init__(self, message: str = "Authentication required.", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class Forbidden(DigipersonaError):
    status_code = 403
    title = "Forbidden"
    type_slug = "forbidden"


class NotFound(DigipersonaError):
    status_code = 404
    title = "Not found"
    type_slug = "not-found"


class Conflict(DigipersonaError):
    status_code = 409
    title = "Conflict"
    type_slug = "conflict"


class Gone(DigipersonaError):
    status_code = 410
    title = "Gone"
    type_slug = "gone"


class ValidationFailed(DigipersonaError):
    status_code = 422
    title = "Validation failed"
    type_slug = "validation-failed"


class TooManyRequests(DigipersonaError):
    status_code = 429
    title = "Too many requests"
    type_slug = "too-many-requests"

    def __init__(self, message: str, retry_after: int, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": str(max(1, retry_after))})
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class UpstreamError(DigipersonaError):
    status_code = 502
    title = "Upstream service failed"
    type_slug = "upstream-error"


class ServiceUnavailable(DigipersonaError):
    status_code = 503
    title = "Service unavailable"
    type_slug = "service-unavailable"
