"""The web session's CSRF token: created per session, masked per page, checked per form."""

from __future__ import annotations

import base64
import secrets

from fastapi import Request

from digipersona.exceptions import Forbidden
from digipersona.kit.security import constant_time_equals


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def masked_csrf_token(request: Request) -> str:
    """The CSRF token as a page carries it: XOR-masked with a fresh random pad every time.

    Pages are compressed, and a compressed page that holds a secret next to text an attacker
    chooses (a search term) leaks the secret through its size over many requests (BREACH). A
    token that differs on every page gives nothing to converge on; ``check_csrf`` unmasks it.
    """
    secret = csrf_token(request).encode()
    pad = secrets.token_bytes(len(secret))
    masked = bytes(a ^ b for a, b in zip(pad, secret, strict=True))
    return base64.urlsafe_b64encode(pad + masked).decode()


def _unmasked(submitted: str) -> str:
    """The session token inside a masked one (or the input itself if it is not masked)."""
    if len(submitted) > 512:
        return submitted
    try:
        raw = base64.urlsafe_b64decode(submitted.encode())
    except (ValueError, UnicodeEncodeError):
        return submitted
    half = len(raw) // 2
    if half == 0 or len(raw) % 2:
        return submitted
    plain = bytes(a ^ b for a, b in zip(raw[:half], raw[half:], strict=True))
    return plain.decode("ascii", errors="replace")


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a state-changing cookie-authenticated request without the session's token."""
    expected = request.session.get("csrf")
    if (
        not expected
        or not submitted
        or not (
            constant_time_equals(str(expected), _unmasked(submitted))
            # A page rendered before masking, still open in a tab across an upgrade.
            or constant_time_equals(str(expected), submitted)
        )
    ):
        raise Forbidden(
            "The form expired or did not come from this site (CSRF check failed). "
            "Reload the page and try again."
        )
