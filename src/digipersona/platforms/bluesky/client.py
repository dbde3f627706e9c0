"""A small XRPC client over the injected ``httpx.Client``, mapping failures to typed errors.

Why raw XRPC rather than ``atproto.Client``: the SDK's sync client creates and owns its own
``httpx.Client`` (``atproto_client/request.py``), so its calls could not go through the client
the app injects (timeouts, fault-injecting transports in tests, a per-account PDS base URL), and
its exceptions drop the headers the engine needs (``RateLimit-Reset``). The SDK is still used
where it helps: its port of the official rich-text detector (``facets.py``).

Error mapping (platform-apis 2.2, 2.6, 2.7; checklist items 11 and 21-22):

- ``400 ExpiredToken`` / ``400 InvalidToken`` / ``401 AuthMissing`` -> ``AuthExpired`` (the PDS
  answers an expired access token with 400, not 401).
- ``429`` -> ``RateLimited(retry_at)`` from ``RateLimit-Reset`` (epoch seconds).
- ``400 InvalidRequest "Invalid app.bsky.feed.post record..."``, ``BlobTooLarge``, ``413`` ->
  ``InvalidContent``.
- ``5xx`` (but 503) and a timeout after the request was sent -> ``UnknownOutcome`` for a write
  that is not safe to repeat (``createRecord``), ``Transient`` otherwise; a refused connection ->
  ``Transient`` (the shared rule of ``platforms/http.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from digipersona.kit.time import utcnow
from digipersona.platforms import errors
from digipersona.platforms.http import send, server_error

logger = logging.getLogger(__name__)

PLATFORM = "bluesky"
# Query parameters: a mapping, or (name, value) pairs where a name repeats (array parameters).
Params = Mapping[str, str] | Sequence[tuple[str, str]]
# Names the PDS uses for "this session token is no good" (auth-verifier.ts).
_TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthMissing"})
_ACCOUNT_ERRORS = frozenset({"AccountTakedown", "AccountDeactivated", "AccountNotFound"})
_INVALID_RECORD_PREFIX = "Invalid app.bsky.feed.post record"
# When a 429 carries no reset at all, wait a whole createSession window rather than hammer.
_DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=5)


class XrpcError(Exception):
    """An XRPC error response, before it is mapped to a platform error."""

    def __init__(self, status_code: int, error: str, message: str, headers: httpx.Headers):
        super().__init__(f"{status_code} {error}: {message}")
        self.status_code = status_code
        self.error = error
        self.message = message
        self.headers = headers


def rate_limit_reset(headers: httpx.Headers, now: datetime | None = None) -> datetime:
    """When a 429 lifts: ``RateLimit-Reset`` (epoch seconds), else ``Retry-After``."""
    now = now or utcnow()
    reset = headers.get("ratelimit-reset")
    if reset:
        try:
            return datetime.fromtimestamp(float(reset), UTC)
        except (ValueError, OverflowError, OSError):
            pass
    retry_after = headers.get("retry-after")
    if retry_after:
        try:
            return now + timedelta(seconds=float(retry_after))
        except ValueError:
            try:
                return parsedate_to_datetime(retry_after).astimezone(UTC)
            except (TypeError, ValueError):
                pass
    return now + _DEFAULT_RATE_LIMIT_WAIT


def _describe(error: XrpcError) -> str:
    return f"{error.error}: {error.message}" if error.message else error.error


def to_platform_error(error: XrpcError, *, operation: str, ambiguous: bool) -> errors.PlatformError:
    """Map an XRPC error response to the typed error the engine acts on."""
    status, name = error.status_code, error.error
    detail = _describe(error)
    if status == 429 or name == "RateLimitExceeded":
        retry_at = rate_limit_reset(error.headers)
        return errors.RateLimited(
            f"Bluesky rate limit reached ({operation}); it resets at {retry_at:%H:%M:%S} UTC.",
            retry_at,
            platform=PLATFORM,
            status_code=status,
        )
    if name in _ACCOUNT_ERRORS:
        return errors.Permanent(
            f"The Bluesky account cannot post ({detail}). Check the account's status on Bluesky.",
            platform=PLATFORM,
            status_code=status,
        )
    if name in _TOKEN_ERRORS or status == 401:
        return errors.AuthExpired(
            f"The Bluesky session is no longer valid ({detail}).",
            platform=PLATFORM,
            status_code=status,
        )
    if status == 413 or name in ("PayloadTooLarge", "BlobTooLarge"):
        return errors.InvalidContent(
            f"Bluesky refused the upload as too large ({detail}). Use a smaller image "
            "(this server's limit is in the message; Bluesky's own servers take 2 MB).",
            platform=PLATFORM,
            status_code=status,
        )
    if status == 400 and error.message.startswith(_INVALID_RECORD_PREFIX):
        return errors.InvalidContent(
            f"Bluesky refused the post: {error.message}", platform=PLATFORM, status_code=status
        )
    if status >= 500:
        return server_error(
            status,
            platform=PLATFORM,
            write=ambiguous,
            message=f"Bluesky server error during {operation} ({status} {detail}).",
        )
    return errors.Permanent(
        f"Bluesky refused {operation} ({status} {detail}).", platform=PLATFORM, status_code=status
    )


class XrpcClient:
    """XRPC calls against one service (an entryway or the account's PDS)."""

    def __init__(self, http: httpx.Client, base_url: str, *, timeout_seconds: float) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.timeout_seconds = timeout_seconds

    def call(
        self,
        method: str,
        nsid: str,
        *,
        token: str | None = None,
        params: Params | None = None,
        json: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        content_type: str | None = None,
        ambiguous: bool = False,
    ) -> Any:
        """One XRPC request; returns the decoded JSON body (or None for an empty one).

        ``ambiguous`` marks a write that must not be repeated blindly: a timeout or 5xx after
        sending it becomes ``UnknownOutcome`` instead of ``Transient``.
        """
        try:
            return self.call_raw(
                method,
                nsid,
                token=token,
                params=params,
                json=json,
                content=content,
                content_type=content_type,
                ambiguous=ambiguous,
            )
        except XrpcError as exc:
            raise to_platform_error(exc, operation=nsid, ambiguous=ambiguous) from None

    def call_raw(
        self,
        method: str,
        nsid: str,
        *,
        token: str | None = None,
        params: Params | None = None,
        json: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        content_type: str | None = None,
        ambiguous: bool = False,
    ) -> Any:
        """Like ``call`` but raises ``XrpcError`` for an error response (transport failures
        are still mapped), for callers that handle some error names themselves."""
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if content_type:
            headers["Content-Type"] = content_type
        # platforms/http.send owns the "was it sent?" rule for transport failures.
        response = send(
            self.http,
            method,
            f"{self.base_url}/xrpc/{nsid}",
            platform=PLATFORM,
            write=ambiguous,
            timeout_seconds=self.timeout_seconds,
            what=nsid,
            # Array parameters are repeated keys (?uris=a&uris=b, platform-apis 2.1).
            params=(list(params.items()) if isinstance(params, Mapping) else list(params))
            if params
            else None,
            json=json,
            content=content,
            headers=headers,
        )
        if response.is_success:
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                return None
        error, message = "", ""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, Mapping):
            error = str(body.get("error") or "")
            message = str(body.get("message") or "")
        if not error:
            error = response.reason_phrase or f"HTTP {response.status_code}"
        logger.debug("xrpc %s %s -> %s %s", method, nsid, response.status_code, error)
        raise XrpcError(response.status_code, error, message, response.headers)
