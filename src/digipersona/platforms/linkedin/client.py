"""LinkedIn HTTP client over the injected ``httpx.Client``: headers, URN encoding, error mapping.

Error mapping (platform-apis 3.3, 3.7, 3.8; checklist 16, 17, 20):

- ``401`` -> ``AuthExpired`` (expired or revoked 60-day token: the member must reconnect).
- ``403`` -> ``Permanent``: a missing scope or product ("Not enough permissions to access").
- ``422`` with ``DUPLICATE_POST`` -> ``DuplicatePost`` carrying the existing URN, which the
  provider turns into a success: the post is already there (3.9).
- ``400``/``422`` otherwise -> ``InvalidContent`` with LinkedIn's message.
- ``426 NONEXISTENT_VERSION`` -> ``ConfigurationError`` naming ``DIGIPERSONA_LINKEDIN_VERSION``.
- ``429`` -> ``RateLimited`` at the next 00:00 UTC, scope ``daily``: LinkedIn's counters are
  daily and it sends no reset header (3.7), so backing off within the day is pointless.
- ``5xx`` -> ``platforms.http.server_error``: ``UnknownOutcome`` for the post and comment
  creates (they may have landed), ``Transient`` for everything else and for ``503``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from digipersona.platforms import errors
from digipersona.platforms import http as platform_http
from digipersona.platforms.base import ProviderConfig
from digipersona.platforms.linkedin.schemas import duplicate_urn

PLATFORM = "linkedin"
VERSION_SETTING = "DIGIPERSONA_LINKEDIN_VERSION"
SECRET_SETTING = "DIGIPERSONA_LINKEDIN_CLIENT_SECRET"  # noqa: S105 (a setting name)


class DuplicatePost(errors.Permanent):
    """LinkedIn refused a post as a duplicate of ``urn`` (which therefore exists)."""

    def __init__(self, message: str, urn: str) -> None:
        super().__init__(message, platform=PLATFORM, status_code=422)
        self.urn = urn


def encode_urn(urn: str) -> str:
    """Percent-encode a URN for a path segment, including ``:(),`` (platform-apis 3.3)."""
    return quote(urn, safe="")


def _detail(body: Mapping[str, Any], response: httpx.Response) -> str:
    message = body.get("message") or body.get("error_description") or body.get("error")
    return str(message) if message else f"HTTP {response.status_code}"


class LinkedInClient:
    """Calls against one LinkedIn app configuration; every method raises typed errors."""

    def __init__(self, config: ProviderConfig, http: httpx.Client) -> None:
        self.config = config
        self.http = http
        self.api_url = config.api_url.rstrip("/")
        self.oauth_url = config.oauth_url.rstrip("/")

    # -- OAuth --------------------------------------------------------------------------------
    def token(self, form: Mapping[str, str], *, refreshing: bool) -> dict[str, Any]:
        """POST the token endpoint with the app credentials; returns the JSON body."""
        data = {
            **form,
            "client_id": self.config.client_id or "",
            "client_secret": self.config.client_secret or "",
        }
        response = self._send(
            "POST", f"{self.oauth_url}/accessToken", write=False, what="the token call", data=data
        )
        body = platform_http.json_object(response)
        if response.is_success and body.get("access_token"):
            return body
        detail = _detail(body, response)
        if body.get("error") == "invalid_client" or response.status_code == 401:
            raise errors.ConfigurationError(
                f"LinkedIn rejected the app credentials ({detail}). Check "
                f"DIGIPERSONA_LINKEDIN_CLIENT_ID and {SECRET_SETTING}.",
                setting=SECRET_SETTING,
                platform=PLATFORM,
                status_code=response.status_code,
            )
        if response.status_code >= 500:
            raise platform_http.server_error(
                response.status_code,
                platform=PLATFORM,
                write=False,
                message=f"LinkedIn's token endpoint failed ({detail}).",
            )
        if refreshing:
            raise errors.AuthExpired(
                f"LinkedIn refused the refresh token ({detail}); reconnect the account.",
                platform=PLATFORM,
                status_code=response.status_code,
            )
        raise errors.Permanent(
            f"LinkedIn refused the authorization code ({detail}); start connecting again.",
            platform=PLATFORM,
            status_code=response.status_code,
        )

    def revoke(self, token: str) -> None:
        """Revoke an access token at LinkedIn (platform-apis 3.2)."""
        data = {
            "client_id": self.config.client_id or "",
            "client_secret": self.config.client_secret or "",
            "token": token,
        }
        response = self._send(
            "POST", f"{self.oauth_url}/revoke", write=False, what="revoke", data=data
        )
        if not response.is_success:
            self._raise(response, write=False, what="revoke")

    # -- API ----------------------------------------------------------------------------------
    def userinfo(self, token: str) -> dict[str, Any]:
        """``GET /v2/userinfo`` (OpenID Connect; unversioned, no Rest.li headers)."""
        response = self._send(
            "GET",
            f"{self.api_url}/v2/userinfo",
            write=False,
            what="userinfo",
            headers={"Authorization": f"Bearer {token}"},
        )
        if not response.is_success:
            self._raise(response, write=False, what="userinfo")
        return platform_http.json_object(response)

    def rest(
        self,
        method: str,
        path: str,
        token: str,
        *,
        write: bool = False,
        what: str = "",
        json: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """A versioned ``/rest/*`` call with the headers every such call needs (3.3)."""
        headers = {
            "Authorization": f"Bearer {token}",
            "LinkedIn-Version": self.config.api_version or "",
            "X-Restli-Protocol-Version": "2.0.0",
        }
        response = self._send(
            method,
            f"{self.api_url}/rest/{path.lstrip('/')}",
            write=write,
            what=what,
            headers=headers,
            json=json,
            params=dict(params) if params else None,
        )
        if not response.is_success:
            self._raise(response, write=write, what=what or path)
        return response

    def put_upload(self, url: str, token: str, data: bytes, mime_type: str) -> None:
        """PUT an image to the upload URL LinkedIn handed out (whole file, bearer header)."""
        response = self._send(
            "PUT",
            url,
            write=False,
            what="the image upload",
            content=data,
            headers={"Authorization": f"Bearer {token}", "Content-Type": mime_type},
        )
        if not response.is_success:
            self._raise(response, write=False, what="the image upload")

    # -- plumbing -----------------------------------------------------------------------------
    def _send(self, method: str, url: str, *, write: bool, what: str, **kw: Any) -> httpx.Response:
        return platform_http.send(
            self.http,
            method,
            url,
            platform=PLATFORM,
            write=write,
            timeout_seconds=self.config.timeout_seconds,
            what=what,
            **kw,
        )

    def _raise(self, response: httpx.Response, *, write: bool, what: str) -> None:
        status = response.status_code
        body = platform_http.json_object(response)
        detail = _detail(body, response)
        if status == 401:
            raise errors.AuthExpired(
                f"LinkedIn rejected the access token ({detail}); reconnect the account "
                "(LinkedIn tokens last 60 days).",
                platform=PLATFORM,
                status_code=status,
            )
        if status == 403:
            raise errors.Permanent(
                f"LinkedIn refused {what}: {detail}. The app or token lacks a permission: the "
                "app needs the 'Share on LinkedIn' and 'Sign In with LinkedIn using OpenID "
                "Connect' products and the member must grant w_member_social.",
                platform=PLATFORM,
                status_code=status,
            )
        if status == 426 or body.get("code") == "NONEXISTENT_VERSION":
            raise errors.ConfigurationError(
                f"LinkedIn no longer serves API version {self.config.api_version!r} ({detail}). "
                f"Set {VERSION_SETTING} to a current version (YYYYMM; LinkedIn keeps each "
                "about 12 months).",
                setting=VERSION_SETTING,
                platform=PLATFORM,
                status_code=status,
            )
        if status == 429:
            retry_at = platform_http.next_utc_midnight()
            raise errors.RateLimited(
                f"LinkedIn's daily limit for {what} is reached ({detail}); it resets at 00:00 UTC.",
                retry_at,
                scope="daily",
                platform=PLATFORM,
                status_code=status,
            )
        if status == 422:
            urn = duplicate_urn(body)
            if urn:
                raise DuplicatePost(f"LinkedIn already has this post as {urn}.", urn)
        if status >= 500:
            raise platform_http.server_error(
                status,
                platform=PLATFORM,
                write=write,
                message=f"LinkedIn failed {what} ({status}: {detail}).",
            )
        if status == 404:
            raise errors.Permanent(
                f"LinkedIn could not find what {what} refers to ({detail}).",
                platform=PLATFORM,
                status_code=status,
            )
        if status in (400, 413, 422):
            raise errors.InvalidContent(
                f"LinkedIn refused {what}: {detail}", platform=PLATFORM, status_code=status
            )
        raise errors.Permanent(
            f"LinkedIn answered {status} to {what}: {detail}", platform=PLATFORM, status_code=status
        )
