"""Links that came from outside (a platform's answer, a receiver's JSON) and end up in an href."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048  # the width of every URL column


def http_url(value: object) -> str | None:
    """``value`` when it is an absolute http(s) URL a page may link to, else ``None``.

    Anything else (``javascript:``, ``data:``, relative or scheme-relative links, control
    characters that browsers strip before they read the scheme) is refused rather than
    escaped: the value becomes an ``href``, where HTML escaping does not help.
    """
    if not isinstance(value, str) or not value or len(value) > MAX_URL_LENGTH:
        return None
    if any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    return value


def without_password(url: str) -> str:
    """``url`` with its password shown as ``***`` (for start-up lines and logs)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "(an unreadable URL)"
    if not password:
        return url
    user, _, host = parts.netloc.rpartition("@")
    name = user.split(":", 1)[0]
    return parts._replace(netloc=f"{name}:***@{host}").geturl()
