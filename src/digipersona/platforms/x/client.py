"""X API v2 HTTP client over the injected ``httpx.Client``: OAuth 2.0 calls and error mapping.

Error mapping (platform-apis 1.6, 1.7; checklist 3, 5):

- ``401`` -> ``AuthExpired`` (2-hour access tokens; the engine refreshes once).
- ``402`` credits depleted -> ``QuotaExhausted`` without a reset: only funding the developer
  account helps, so it is never retried.
- ``429`` usage-capped -> ``QuotaExhausted`` until the first of next month (monthly cap).
- ``429`` with ``x-user-limit-24hour-remaining: 0`` (or the app's) -> ``RateLimited`` at that
  24-hour reset, scope ``daily``; any other ``429`` -> ``RateLimited`` at ``x-rate-limit-reset``
  (epoch seconds), scope ``user`` (the 15-minute window).
- ``403`` duplicate content -> ``DuplicateContent``, which the provider resolves by finding the
  earlier post; ``403`` reply not allowed -> ``InvalidContent`` with X's detail; ``403``
  "Unsupported Authentication" -> ``AuthExpired``; other ``403`` -> ``Permanent``.
- ``400`` -> ``InvalidContent`` with X's messages; ``404`` -> ``Permanent``.
- ``5xx`` -> ``platforms.http.server_error`` (``UnknownOutcome`` for a post create).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import httpx

from digipersona.kit.time import utcnow
from digipersona.platforms import errors
from digipersona.platforms import http as platform_http
from digipersona.platforms.base import ProviderConfig
from digipersona.platforms.x.schemas import Problem, parse_problem

PLATFORM = "x"
ID_SETTING = "DIGIPERSONA_X_CLIENT_ID"
SECRET_SETTING = "DIGIPERSONA_X_CLIENT_SECRET"  # noqa: S105 (a setting name)
_WINDOW = timedelta(minutes=15)


class DuplicateContent(errors.Permanent):
    """X refused a post as a duplicate of a recent one (1.7, 1.8)."""


def map_error(response: httpx.Response, *, write: bool, what: str) -> errors.PlatformError:
    """The typed error for an X error response (see the module docstring)."""
    status = response.status_code
    problem: Problem = parse_problem(status, platform_http.json_object(response))
    detail = problem.message
    lowered = detail.lower()
    if status == 401:
        return errors.AuthExpired(
            f"X rejected the access token ({detail}).", platform=PLATFORM, status_code=status
        )
    if status == 402 or problem.type_is("credits-depleted"):
        return errors.QuotaExhausted(
            "X API credits are depleted: add credits to the X developer account that owns the "
            f"app, then resume the connection ({detail}).",
            platform=PLATFORM,
            status_code=status,
        )
    if status == 429:
        return _rate_limited(response, problem, what)
    if status == 403:
        if "duplicate content" in lowered:
            return DuplicateContent(
                f"X refused the post as a duplicate: {detail}",
                platform=PLATFORM,
                status_code=status,
            )
        if "reply" in lowered and ("not allowed" in lowered or "only reply" in lowered):
            return errors.InvalidContent(
                f"X refused the reply: {detail}", platform=PLATFORM, status_code=status
            )
        if "too long" in lowered:
            return errors.InvalidContent(
                f"X refused the text: {detail}", platform=PLATFORM, status_code=status
            )
        if "unsupported authentication" in lowered:
            return errors.AuthExpired(
                f"X refused the credentials ({detail}); reconnect the account.",
                platform=PLATFORM,
                status_code=status,
            )
        return errors.Permanent(
            f"X refused {what}: {detail}", platform=PLATFORM, status_code=status
        )
    if status >= 500:
        return platform_http.server_error(
            status, platform=PLATFORM, write=write, message=f"X failed {what} ({status}: {detail})."
        )
    if status == 400:
        return errors.InvalidContent(
            f"X refused {what}: {detail}", platform=PLATFORM, status_code=status
        )
    return errors.Permanent(
        f"X answered {status} to {what}: {detail}", platform=PLATFORM, status_code=status
    )


def _rate_limited(
    response: httpx.Response, problem: Problem, what: str
) -> errors.RateLimited | errors.QuotaExhausted:
    headers = response.headers
    if problem.type_is("usage-capped") or problem.title == "UsageCapExceeded":
        return errors.QuotaExhausted(
            f"X's monthly usage cap is reached ({problem.message}); posting resumes next month "
            "or when the plan's cap is raised.",
            platform_http.first_of_next_month(),
            platform=PLATFORM,
            status_code=429,
        )
    for prefix in ("x-user-limit-24hour", "x-app-limit-24hour"):
        if headers.get(f"{prefix}-remaining") == "0":
            reset = platform_http.header_reset(headers, f"{prefix}-reset")
            retry_at = reset or utcnow() + timedelta(hours=24)
            who = "account" if prefix.startswith("x-user") else "app"
            return errors.RateLimited(
                f"X's 24-hour post cap for this {who} is reached; it resets at "
                f"{retry_at:%Y-%m-%d %H:%M} UTC.",
                retry_at,
                scope="daily",
                platform=PLATFORM,
            )
    retry_at = platform_http.header_reset(headers, "x-rate-limit-reset") or utcnow() + _WINDOW
    return errors.RateLimited(
        f"X rate limit reached for {what}; it resets at {retry_at:%H:%M:%S} UTC.",
        retry_at,
        scope="user",
        platform=PLATFORM,
    )


class XClient:
    """Calls against X API v2 for one app configuration; every method raises typed errors."""

    def __init__(self, config: ProviderConfig, http: httpx.Client) -> None:
        self.config = config
        self.http = http
        self.api_url = config.api_url.rstrip("/")

    # -- OAuth --------------------------------------------------------------------------------
    def _client_auth(self, form: dict[str, str]) -> dict[str, Any]:
        # 1.2: confidential clients use Basic auth; public clients put client_id in the body.
        if self.config.client_secret:
            return {"auth": (self.config.client_id or "", self.config.client_secret)}
        form["client_id"] = self.config.client_id or ""
        return {}

    def token(self, form: Mapping[str, str], *, refreshing: bool) -> dict[str, Any]:
        """``POST /2/oauth2/token`` (form-encoded); returns the JSON body."""
        data = dict(form)
        extra = self._client_auth(data)
        response = self._send(
            "POST", "/2/oauth2/token", write=False, what="the token call", data=data, **extra
        )
        body = platform_http.json_object(response)
        if response.is_success and body.get("access_token"):
            return body
        detail = str(body.get("error_description") or body.get("error") or response.status_code)
        if response.status_code == 401 or body.get("error") in (
            "invalid_client",
            "unauthorized_client",
        ):
            raise errors.ConfigurationError(
                f"X rejected the app credentials ({detail}). Check {ID_SETTING} and, for a "
                f"confidential app, {SECRET_SETTING}.",
                setting=SECRET_SETTING if self.config.client_secret else ID_SETTING,
                platform=PLATFORM,
                status_code=response.status_code,
            )
        if response.status_code >= 500 or response.status_code == 429:
            raise map_error(response, write=False, what="the token call")
        if refreshing:
            # 1.2: a used (rotated) or revoked refresh token answers 400 invalid_request.
            raise errors.AuthExpired(
                f"X refused the refresh token ({detail}); reconnect the account.",
                platform=PLATFORM,
                status_code=response.status_code,
            )
        raise errors.Permanent(
            f"X refused the authorization code ({detail}). Codes expire 30 seconds after "
            "consent: start connecting again.",
            platform=PLATFORM,
            status_code=response.status_code,
        )

    def revoke(self, token: str, hint: str) -> None:
        """``POST /2/oauth2/revoke`` for one token."""
        data = {"token": token, "token_type_hint": hint}
        extra = self._client_auth(data)
        response = self._send(
            "POST", "/2/oauth2/revoke", write=False, what="revoke", data=data, **extra
        )
        if not response.is_success:
            raise map_error(response, write=False, what="revoke")

    # -- API ----------------------------------------------------------------------------------
    def call(
        self,
        method: str,
        path: str,
        token: str,
        *,
        write: bool = False,
        what: str = "",
        json: Any = None,
        params: Mapping[str, str] | None = None,
        files: Any = None,
        data: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """One authenticated API call; returns the JSON object body."""
        response = self._send(
            method,
            path,
            write=write,
            what=what or path,
            headers={"Authorization": f"Bearer {token}"},
            json=json,
            params=dict(params) if params else None,
            files=files,
            data=dict(data) if data else None,
        )
        if not response.is_success:
            raise map_error(response, write=write, what=what or path)
        return platform_http.json_object(response)

    def _send(self, method: str, path: str, *, write: bool, what: str, **kw: Any) -> httpx.Response:
        return platform_http.send(
            self.http,
            method,
            f"{self.api_url}{path}",
            platform=PLATFORM,
            write=write,
            timeout_seconds=self.config.timeout_seconds,
            what=what,
            **kw,
        )
