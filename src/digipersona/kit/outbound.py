"""The guard for outbound URLs that people choose: public addresses only, unless allowed.

Members of a workspace make this server send requests to URLs they pick: RSS/Atom feeds, the
webhook publishing target, a self-hosted Bluesky PDS (and the PDS its DID document names), the
notification webhook, Web Push endpoints. Unguarded, such a URL reaches the server's own
network: ``127.0.0.1``, the cloud metadata service at ``169.254.169.254``, hosts on ``10.x``.

The guard sits where connections are made: ``GuardedBackend`` is the network backend of the
client's connection pool. It resolves the host itself, checks every address, and connects to
one of the checked addresses without resolving again, so a DNS answer that changes between a
save-time check and the request (DNS rebinding) cannot lead anywhere unchecked. A redirect hop
opens its own connection and is checked the same way.

An address is refused unless it is public (globally routable, and not loopback, private,
link-local, multicast, reserved, unspecified or shared address space; an IPv4 address carried
in IPv6, ``::ffff:127.0.0.1``, NAT64 ``64:ff9b::/96`` or 6to4, is judged by that IPv4 address) or
it lies in a network of ``DIGIPERSONA_OUTBOUND_ALLOWED_NETWORKS``. A host with any refused
address is refused as a whole.

- ``client(settings)``: the process's shared guarded ``httpx.Client`` (keep-alive).
- ``check_url(url, settings)``: the same check before a URL is saved; ``ensure_allowed``
  turns a refusal into the 422 services answer.
- ``OutboundRefused``: an ``httpx.ConnectError`` (nothing was sent) whose message names the
  refused address and the setting that allows it.

Not covered: the guarded client ignores the proxy environment variables (``HTTP_PROXY``...),
because a proxy would connect on our behalf to an address the guard never saw. Web Push
messages are sent by pywebpush with ``requests``, outside this client: push endpoints are
checked when a subscription is saved, not at send time. Clients built elsewhere (LLM
providers, LinkedIn and X, whose hosts the operator configures) are not guarded.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import httpcore
import httpx

from digipersona.exceptions import ValidationFailed
from digipersona.kit.http import USER_AGENT

if TYPE_CHECKING:
    from digipersona.config import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> the addresses to connect to, in order (tests inject one to play DNS).
Resolver = Callable[[str, int], Sequence[str]]

SETTING = "DIGIPERSONA_OUTBOUND_ALLOWED_NETWORKS"
# Not globally reachable per IANA's special-purpose registries, whatever this Python's
# ``is_global`` says (its tables changed between 3.11 patch releases).
_NOT_PUBLIC = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "240.0.0.0/4",
        "::/96",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "fc00::/7",
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class OutboundRefused(httpx.ConnectError):
    """The guard refused a URL or an address; nothing was sent. ``str()`` says why."""

    def __init__(self, message: str, *, host: str = "", address: str = "") -> None:
        super().__init__(message)
        self.host = host
        self.address = address


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def why_not_public(address: IPAddress) -> str | None:
    """Why ``address`` is not public ("a loopback address", ...), or ``None`` when it is."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return why_not_public(embedded)
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (the range of cloud metadata services)"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "a site-local address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global or any(
        address.version == n.version and address in n for n in _NOT_PUBLIC
    ):
        return "not a globally routable address"
    return None


def is_allowed(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    """Whether the guard lets a connection go to ``address`` with these allowed networks."""
    forms: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        forms.append(address.ipv4_mapped)  # the kernel connects to the IPv4 address itself
    if any(f.version == n.version and f in n for f in forms for n in networks):
        return True
    return why_not_public(address) is None


def check_address(host: str, address: str, networks: Iterable[IPNetwork]) -> None:
    """Raise ``OutboundRefused`` unless a connection to ``address`` (for ``host``) is allowed."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise OutboundRefused(
            f"{host} resolved to {address!r}, which is not an IP address.",
            host=host,
            address=address,
        ) from None
    if is_allowed(ip, networks):
        return
    shown = address if host in (address, f"[{address}]") else f"{address} (the address of {host})"
    raise OutboundRefused(
        f"Refused to connect to {shown}: it is {why_not_public(ip) or 'not allowed'}. URLs "
        "chosen in digipersona may only reach public addresses: use a public URL, or ask the "
        f"server's operator to allow this network with {SETTING}.",
        host=host,
        address=address,
    )


def resolve(host: str, port: int) -> list[str]:
    """The addresses of ``host`` (a literal resolves to itself), in the resolver's order."""
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM
    ):
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


class GuardedBackend(httpcore.NetworkBackend):
    """A network backend that connects only to addresses it resolved and checked itself."""

    def __init__(self, networks: Iterable[IPNetwork] = (), *, resolver: Resolver = resolve):
        self.networks = tuple(networks)
        self._resolve = resolver
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        host = _bare(host) or host
        try:
            addresses = list(self._resolve(host, port))
        except OSError as exc:
            raise httpcore.ConnectError(f"{host} could not be resolved ({exc})") from exc
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address")
        for address in addresses:
            check_address(host, address, self.networks)
        deadline = None if timeout is None else time.monotonic() + timeout
        failure: Exception | None = None
        for address in addresses:
            left = None if deadline is None else max(0.001, deadline - time.monotonic())
            try:
                # A literal address: the socket layer does not resolve it again.
                return self._backend.connect_tcp(
                    address, port, left, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise OutboundRefused("Outbound URLs never connect to Unix sockets.", host=path)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class OutboundTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` whose connection pool uses ``GuardedBackend``."""

    def __init__(
        self,
        networks: Iterable[IPNetwork] = (),
        *,
        resolver: Resolver = resolve,
        limits: httpx.Limits = httpx.Limits(max_connections=100, max_keepalive_connections=20),
    ) -> None:
        ssl_context = httpx.create_ssl_context(trust_env=False)
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        # The same pool HTTPTransport builds, with the guarded backend instead of the default.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(networks, resolver=resolver),
        )


class GuardedClient(httpx.Client):
    """An ``httpx.Client`` whose every connection is checked; environment proxies are off."""

    def __init__(
        self,
        networks: Iterable[IPNetwork] = (),
        *,
        timeout: float = 30.0,
        resolver: Resolver = resolve,
    ) -> None:
        self.networks = tuple(networks)
        super().__init__(
            transport=OutboundTransport(self.networks, resolver=resolver),
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
            trust_env=False,
        )


_lock = threading.Lock()
_shared: dict[tuple[tuple[IPNetwork, ...], float], GuardedClient] = {}


def client(settings: Settings, *, timeout: float = 30.0) -> GuardedClient:
    """The shared guarded client for these settings' allowed networks (keep it open)."""
    key = (settings.outbound_networks, float(timeout))
    with _lock:
        found = _shared.get(key)
        if found is None or found.is_closed:
            found = _shared[key] = GuardedClient(key[0], timeout=timeout)
        return found


def guarded(http: httpx.Client, settings: Settings, *, timeout: float = 30.0) -> httpx.Client:
    """``http`` when it is already guarded, else the shared guarded client: for user URLs."""
    if isinstance(http, GuardedClient):
        return http
    return client(settings, timeout=timeout)


def check_url(url: str, settings: Settings, *, resolver: Resolver = resolve) -> None:
    """Raise ``OutboundRefused`` when ``url`` is not http(s) or its host has a refused address.

    A host that does not resolve now passes: it is checked again whenever it is connected to.
    """
    check_url_against(url, settings.outbound_networks, resolver=resolver)


def check_url_against(
    url: str, networks: Iterable[IPNetwork], *, resolver: Resolver = resolve
) -> None:
    """``check_url`` with the allowed networks given directly."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.raw_host:
        raise OutboundRefused("Only http:// and https:// URLs with a host name can be used.")
    # "localhost." and "127.0.0.1." name the same host as without the dot (a fully qualified
    # name); some resolvers refuse the dotted literal now and others answer it later.
    host = _bare(parsed.raw_host.decode("ascii"))
    if not host:
        raise OutboundRefused("Only http:// and https:// URLs with a host name can be used.")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        addresses = resolver(host, port)
    except OSError:
        return
    for address in addresses:
        check_address(host, address, networks)


def check_client_url(http: httpx.Client, url: str) -> None:
    """Check ``url`` against ``http``'s guard when it has one (a URL a platform handed us)."""
    if isinstance(http, GuardedClient):
        check_url_against(url, http.networks)


def _bare(host: str) -> str:
    return host.rstrip(".")


def ensure_allowed(url: str, settings: Settings, *, field: str) -> None:
    """``check_url`` for a value about to be saved: a refusal is a 422 naming ``field``."""
    try:
        check_url(url, settings)
    except OutboundRefused as exc:
        raise ValidationFailed(
            f"This URL cannot be used. {exc}",
            errors=[{"field": field, "message": str(exc)}],
        ) from exc
