"""Shared HTTP plumbing for platform clients: one send, one place that decides retry safety.

Platform clients call ``send`` instead of ``httpx.Client.request`` so that every transport failure
becomes a typed error (``platforms/errors.py``) by one rule, and the rule depends only on whether
the request might have reached the server and whether repeating it could post twice:

- Nothing reached the server (connect refused, connect timeout, no pooled connection, the body
  could not be written completely): ``Transient``. Retrying cannot duplicate anything.
- The outbound guard refused the address (``kit/outbound.py``: a user-chosen URL that resolves
  to loopback, a private network, ...): ``Permanent`` with the guard's reason. Nothing was sent,
  and retrying would be refused again until the URL or the operator's setting changes.
- The request was sent and the answer never came (read timeout, connection reset or closed
  mid-response): ``UnknownOutcome`` when the call is a non-idempotent write (``write=True``,
  e.g. create a post), ``Transient`` otherwise (reads, uploads of unattached media, deletes).

For HTTP 5xx answers, ``server_error`` applies the same idea: ``503`` means the service refused
the request before handling it (RFC 9110 15.6.4), so it is ``Transient``; any other 5xx on a
non-idempotent write may have been applied behind a gateway (500, 502, 504), so it is
``UnknownOutcome``; on anything else a 5xx is ``Transient``.

The module also parses the rate-limit reset forms platforms use (epoch seconds on X and Bluesky,
platform-apis checklist 22) and LinkedIn's "daily, resets at 00:00 UTC" rule (platform-apis 3.7).
It knows nothing about any one platform, so every provider can use it.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from digipersona.kit.outbound import OutboundRefused
from digipersona.kit.time import utcnow
from digipersona.platforms import errors

# Raised before the request left this process (or before it was complete on the wire).
_NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
)


def timeout(seconds: float) -> httpx.Timeout:
    """An explicit per-request timeout; connecting never waits longer than 10 s."""
    return httpx.Timeout(seconds, connect=min(10.0, seconds))


def send(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    platform: str,
    write: bool,
    timeout_seconds: float,
    what: str = "",
    **kwargs: Any,
) -> httpx.Response:
    """Send one request; transport failures become ``Transient``, ``UnknownOutcome`` or, when
    the outbound guard refuses the address, ``Permanent``.

    ``write`` marks a non-idempotent write (repeating it could post twice). ``what`` names the
    operation in messages. HTTP error statuses are returned, not raised: the caller maps them.
    """
    label = what or f"{method} {httpx.URL(url).path}"
    try:
        return http.request(method, url, timeout=timeout(timeout_seconds), **kwargs)
    except OutboundRefused as exc:  # a ConnectError: must come before _NOT_SENT
        raise errors.Permanent(
            f"Nothing was sent to {platform} for {label}. {exc}", platform=platform
        ) from exc
    except _NOT_SENT as exc:
        raise errors.Transient(
            f"Could not reach {platform} for {label} ({type(exc).__name__}); nothing was sent.",
            platform=platform,
        ) from exc
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise errors.Permanent(
            f"The {platform} base URL is not usable for {label}: {exc}", platform=platform
        ) from exc
    except httpx.TransportError as exc:
        message = f"{platform} did not answer {label} ({type(exc).__name__})"
        if write:
            raise errors.UnknownOutcome(
                message + "; it may have been applied.", platform=platform
            ) from exc
        raise errors.Transient(message + ".", platform=platform) from exc


def server_error(
    status: int, *, platform: str, write: bool, message: str
) -> errors.Transient | errors.UnknownOutcome:
    """The typed error for a 5xx answer, by the rule in the module docstring."""
    if write and status != 503:
        return errors.UnknownOutcome(
            message + " It may have been applied.", platform=platform, status_code=status
        )
    return errors.Transient(message, platform=platform, status_code=status)


def json_or_none(response: httpx.Response) -> Any:
    """The decoded JSON body, or ``None`` when the body is empty or not JSON."""
    if not response.content:
        return None
    try:
        return response.json()
    except (ValueError, jsonlib.JSONDecodeError):
        return None


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The JSON body when it is an object, else an empty dict (error bodies vary)."""
    body = json_or_none(response)
    return body if isinstance(body, dict) else {}


def epoch_reset(value: str | None) -> datetime | None:
    """Parse an epoch-seconds reset header (``x-rate-limit-reset``, ``RateLimit-Reset``)."""
    if not value:
        return None
    try:
        return datetime.fromtimestamp(float(value.strip()), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def header_reset(
    headers: Mapping[str, str], *names: str, default: datetime | None = None
) -> datetime | None:
    """The first parsable epoch-seconds reset among ``names`` (header names, any case)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in names:
        parsed = epoch_reset(lowered.get(name.lower()))
        if parsed is not None:
            return parsed
    return default


def next_utc_midnight(now: datetime | None = None) -> datetime:
    """The next 00:00 UTC after ``now`` (when LinkedIn's daily counters reset)."""
    current = (now or utcnow()).astimezone(UTC)
    return datetime(current.year, current.month, current.day, tzinfo=UTC) + timedelta(days=1)


def first_of_next_month(now: datetime | None = None) -> datetime:
    """00:00 UTC on the first day of the next month (monthly usage caps)."""
    current = (now or utcnow()).astimezone(UTC)
    if current.month == 12:
        return datetime(current.year + 1, 1, 1, tzinfo=UTC)
    return datetime(current.year, current.month + 1, 1, tzinfo=UTC)


def expires_at(expires_in: Any, now: datetime | None = None) -> datetime | None:
    """``now + expires_in`` seconds for an OAuth token response, or ``None`` if absent."""
    try:
        seconds = int(expires_in)
    except (TypeError, ValueError):
        return None
    return (now or utcnow()) + timedelta(seconds=seconds)
