"""The one way to build an outbound HTTP client: explicit timeouts, a clear User-Agent."""

from __future__ import annotations

import ssl
from functools import cache

import httpx

from digipersona import __version__

USER_AGENT = f"digipersona/{__version__} (+https://github.com/digipersona)"


@cache
def _tls_context() -> ssl.SSLContext:
    """The default verifying TLS context, built once: loading the CA bundle costs ~50-300 ms, and
    an ``SSLContext`` is safe to share between clients and threads."""
    return httpx.create_ssl_context()


def make_http_client(timeout_seconds: float = 30.0, *, max_connections: int = 100) -> httpx.Client:
    """A pooled client; connect timeout is short so a dead host fails fast and safely."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout_seconds, connect=min(10.0, timeout_seconds)),
        headers={"User-Agent": USER_AGENT},
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=20),
        follow_redirects=False,
        verify=_tls_context(),
    )
