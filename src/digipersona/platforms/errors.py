"""Typed platform failures. The publishing engine decides retries from the class alone.

Mapping to the engine's behaviour (DESIGN.md "Publishing guarantees"):

- ``AuthExpired``: refresh the credentials once (serialised per connection), then pause the
  connection and notify.
- ``RateLimited(retry_at)``: wait until ``retry_at`` (the platform's reset), never back off blindly.
- ``QuotaExhausted``: a budget ran out (X credits, a monthly spend cap, a daily app budget); hold
  the publication and pause the connection until ``retry_at`` or until a human acts.
- ``Transient``: exponential backoff with jitter.
- ``Permanent``: fail with the reason; retrying cannot help.
- ``InvalidContent``: the post itself must change (too long, bad media); fail with the reason.
- ``UnknownOutcome``: the request may have been applied; reconcile through ``Provider.lookup``
  before anything else. Never re-post blindly.
- ``ConfigurationError``: an operator setting is wrong (sunset API version, missing app
  credentials); a ``Permanent`` that names the setting.
"""

from __future__ import annotations

from datetime import datetime


class PlatformError(Exception):
    """Base of every provider failure; ``message`` is safe to show (never contains tokens)."""

    retryable: bool = False

    def __init__(self, message: str, *, platform: str = "", status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.platform = platform
        self.status_code = status_code


class AuthExpired(PlatformError):
    """The access token expired or was revoked: refresh once, then ask for a reconnect."""


class RateLimited(PlatformError):
    """The platform said to slow down; ``retry_at`` is its reset time (aware UTC)."""

    retryable = True

    def __init__(
        self,
        message: str,
        retry_at: datetime,
        *,
        scope: str = "user",
        platform: str = "",
        status_code: int | None = 429,
    ) -> None:
        super().__init__(message, platform=platform, status_code=status_code)
        self.retry_at = retry_at
        self.scope = scope


class QuotaExhausted(PlatformError):
    """A budget is used up (credits, spend cap, daily app budget); ``retry_at`` if it resets."""

    def __init__(
        self,
        message: str,
        retry_at: datetime | None = None,
        *,
        platform: str = "",
        status_code: int | None = None,
    ) -> None:
        super().__init__(message, platform=platform, status_code=status_code)
        self.retry_at = retry_at


class Transient(PlatformError):
    """A temporary failure known NOT to have applied the write (5xx before send, refused conn)."""

    retryable = True


class Permanent(PlatformError):
    """Retrying cannot help (forbidden, not found, account suspended)."""


class InvalidContent(Permanent):
    """The content is refused as it is (too long, bad media, disallowed reply)."""


class DemoConnection(Permanent):
    """The connection belongs to a demo workspace (``digipersona demo``): nothing of it may
    reach a platform, so every call that would is refused before any request is made."""


class ConfigurationError(Permanent):
    """An operator setting is wrong; ``setting`` names the environment variable to fix."""

    def __init__(
        self, message: str, *, setting: str, platform: str = "", status_code: int | None = None
    ):
        super().__init__(message, platform=platform, status_code=status_code)
        self.setting = setting


class UnknownOutcome(PlatformError):
    """The write may or may not have happened (timeout after send, 5xx after send, lost lease)."""
