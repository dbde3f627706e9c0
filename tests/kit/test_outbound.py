"""The outbound guard (kit/outbound.py): real connections on loopback, refused unless allowed.

These tests build their own settings: without the loopback allowance the rest of the suite gets
from ``make_settings``. Addresses other than loopback are only ever checked, never connected to.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import pytest

from digipersona.config import Settings
from digipersona.kit import outbound
from digipersona.kit.outbound import OutboundRefused
from tests.fakes.server import RunningServer, serve

SETTING = "DIGIPERSONA_OUTBOUND_ALLOWED_NETWORKS"


class Recorder:
    """Answers 200 and keeps each request's path; ``/redirect?to=<url>`` answers 302 to <url>."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        self.paths.append(path)
        if path == "/redirect":
            target = environ["QUERY_STRING"].removeprefix("to=")
            start_response("302 Found", [("Location", target), ("Content-Length", "0")])
            return [b""]
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]


@pytest.fixture
def server() -> Iterator[tuple[Recorder, RunningServer]]:
    recorder = Recorder()
    with serve(recorder) as running:
        yield recorder, running


def allowing(networks: str) -> Settings:
    return Settings(outbound_allowed_networks=networks)


PUBLIC_ONLY = allowing("")


@pytest.mark.parametrize(
    ("url", "address", "kind"),
    [
        ("http://127.0.0.1/", "127.0.0.1", "a loopback address"),
        ("http://[::1]:8080/", "::1", "a loopback address"),
        ("http://10.0.0.1/", "10.0.0.1", "a private address"),
        ("http://172.16.5.4/", "172.16.5.4", "a private address"),
        ("https://192.168.1.1/", "192.168.1.1", "a private address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254", "a link-local address"),
        ("http://0.0.0.0:8000/", str(ipaddress.IPv4Address(0)), "an unspecified address"),
        ("http://[::]/", "::", "an unspecified address"),
        ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1", "a loopback address"),
        ("http://[::ffff:a9fe:a9fe]/", "::ffff:169.254.169.254", "a link-local address"),
        ("http://[64:ff9b::a9fe:a9fe]/", "64:ff9b::a9fe:a9fe", "a link-local address"),
        ("http://[2002:7f00:1::]/", "2002:7f00:1::", "a loopback address"),
        ("http://[fd00::1]/", "fd00::1", "a private address"),
        ("http://[fe80::1]/", "fe80::1", "a link-local address"),
        ("http://224.0.0.1/", "224.0.0.1", "a multicast address"),
        ("http://[ff02::1]/", "ff02::1", "a multicast address"),
        ("http://100.64.0.1/", "100.64.0.1", "not a globally routable address"),
        ("http://240.0.0.1/", "240.0.0.1", "a reserved address"),
    ],
)
def test_addresses_that_are_not_public_are_refused(url: str, address: str, kind: str) -> None:
    with pytest.raises(OutboundRefused) as caught:
        outbound.check_url(url, PUBLIC_ONLY)
    message = str(caught.value)
    assert message.startswith(f"Refused to connect to {address}"), message
    assert f"it is {kind}" in message
    assert SETTING in message
    assert caught.value.address == address


def test_a_host_name_resolving_to_loopback_is_refused() -> None:
    with pytest.raises(OutboundRefused) as caught:
        outbound.check_url("http://localhost:8080/feed.xml", PUBLIC_ONLY)
    assert caught.value.host == "localhost"
    assert caught.value.address in ("127.0.0.1", "::1")
    assert f"{caught.value.address} (the address of localhost)" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://127.0.0.1./hook", "127.0.0.1"),
        ("http://localhost.:8080/hook", None),
        ("https://10.1.2.3../push", "10.1.2.3"),
    ],
)
def test_a_trailing_dot_names_the_same_host_and_is_refused(url: str, address: str | None) -> None:
    """'localhost.' is the fully qualified 'localhost': it must not slip past as unresolvable."""
    with pytest.raises(OutboundRefused) as caught:
        outbound.check_url(url, PUBLIC_ONLY)
    assert caught.value.address == address or caught.value.address in ("127.0.0.1", "::1")


def test_public_addresses_pass_the_check() -> None:
    # Literal addresses are checked without any connection (and without DNS).
    for url in (
        "http://93.184.216.34/feed.xml",
        "https://[2606:4700:4700::1111]/",
        "https://[::ffff:93.184.216.34]/",
        "http://[64:ff9b::5db8:d822]/",
    ):
        outbound.check_url(url, PUBLIC_ONLY)
    assert outbound.why_not_public(ipaddress.ip_address("93.184.216.34")) is None
    assert outbound.is_allowed(ipaddress.ip_address("93.184.216.34"), ())


def test_urls_that_are_not_http_or_have_no_host_are_refused() -> None:
    for url in ("ftp://example.com/feed", "file:///etc/passwd", "http:///nohost", "not a url"):
        with pytest.raises(OutboundRefused, match="Only http:// and https://"):
            outbound.check_url(url, PUBLIC_ONLY)


def test_a_host_that_does_not_resolve_now_passes_the_save_time_check() -> None:
    outbound.check_url("https://feeds.example.invalid/rss", PUBLIC_ONLY)


def test_the_client_refuses_at_connect_time_and_sends_nothing(
    server: tuple[Recorder, RunningServer],
) -> None:
    recorder, running = server
    port = running.port
    client = outbound.client(PUBLIC_ONLY)
    for url in (
        f"http://127.0.0.1:{port}/a",
        f"http://localhost:{port}/b",
        f"http://0.0.0.0:{port}/c",
        f"http://[::1]:{port}/d",
    ):
        with pytest.raises(OutboundRefused, match="Refused to connect to") as caught:
            client.get(url)
        # An httpx.ConnectError: callers that know nothing of the guard see "not sent".
        assert isinstance(caught.value, httpx.ConnectError)
        assert caught.value.request.url == httpx.URL(url)
    assert recorder.paths == []


def test_allowed_networks_let_the_client_through(
    server: tuple[Recorder, RunningServer],
) -> None:
    recorder, running = server
    settings = allowing("127.0.0.0/8")
    client = outbound.client(settings)
    assert client.get(f"{running.url}/a").text == "ok"
    assert client.get(f"http://localhost:{running.port}/b").status_code == 200
    assert recorder.paths == ["/a", "/b"]
    # IPv4 inside IPv6 is judged by its IPv4 address, for the allowance too.
    outbound.check_url("http://[::ffff:127.0.0.1]/", settings)
    # Only what is listed: not ::1, not 0.0.0.0, and a /32 is one address.
    for url in ("http://[::1]/", "http://0.0.0.0/"):
        with pytest.raises(OutboundRefused):
            outbound.check_url(url, settings)
    outbound.check_url("http://127.0.0.1/", allowing("127.0.0.1/32"))
    with pytest.raises(OutboundRefused):
        outbound.check_url("http://127.0.0.2/", allowing("127.0.0.1/32"))
    outbound.check_url("http://10.1.2.3/", allowing("10.0.0.0/8, fd00::/8"))


def test_each_redirect_hop_is_checked(server: tuple[Recorder, RunningServer]) -> None:
    recorder, running = server
    client = outbound.client(allowing("127.0.0.1/32"))
    ok = client.get(f"{running.url}/redirect?to={running.url}/landed", follow_redirects=True)
    assert ok.text == "ok" and recorder.paths == ["/redirect", "/landed"]
    # The same server through an address that is not allowed: the hop is refused.
    hop = f"http://0.0.0.0:{running.port}/secret"
    with pytest.raises(OutboundRefused, match=re.escape("Refused to connect to 0.0.0.0")):
        client.get(f"{running.url}/redirect?to={hop}", follow_redirects=True)
    assert recorder.paths == ["/redirect", "/landed", "/redirect"]


def test_a_dns_answer_that_changes_after_the_check_is_checked_again(
    server: tuple[Recorder, RunningServer],
) -> None:
    """DNS rebinding: public when the URL is saved, loopback when it is fetched."""
    recorder, running = server
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])

    def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    url = f"http://rebind.test:{running.port}/feed.xml"
    outbound.check_url(url, PUBLIC_ONLY, resolver=rebinding)  # saved: it looked public
    with (
        outbound.GuardedClient(resolver=rebinding) as client,
        pytest.raises(OutboundRefused, match=r"127\.0\.0\.1 \(the address of rebind\.test\)"),
    ):
        client.get(url)
    assert recorder.paths == []


def test_a_host_with_any_refused_address_is_refused(
    server: tuple[Recorder, RunningServer],
) -> None:
    recorder, running = server

    def mixed(host: str, port: int) -> list[str]:
        return ["127.0.0.1", "10.0.0.1"]

    with (
        outbound.GuardedClient([ipaddress.ip_network("127.0.0.0/8")], resolver=mixed) as client,
        pytest.raises(OutboundRefused, match=re.escape("10.0.0.1")),
    ):
        client.get(f"http://mixed.test:{running.port}/")
    assert recorder.paths == []


def test_proxy_variables_are_ignored(
    server: tuple[Recorder, RunningServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy would connect for us, to an address the guard never saw."""
    recorder, running = server
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with outbound.GuardedClient([ipaddress.ip_network("127.0.0.0/8")]) as client:
        assert client.get(f"{running.url}/direct").status_code == 200
    assert recorder.paths == ["/direct"]


def test_the_shared_client_and_guarded() -> None:
    settings = allowing("127.0.0.0/8")
    shared = outbound.client(settings)
    assert outbound.client(allowing("127.0.0.0/8")) is shared
    assert outbound.client(PUBLIC_ONLY) is not shared
    with httpx.Client() as plain:
        assert outbound.guarded(plain, settings) is shared
    with outbound.GuardedClient() as own:
        assert outbound.guarded(own, settings) is own


def test_ensure_allowed_is_a_422_naming_the_field() -> None:
    from digipersona.exceptions import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        outbound.ensure_allowed("http://10.0.0.1/hook", PUBLIC_ONLY, field="url")
    assert caught.value.status_code == 422
    assert caught.value.errors == [{"field": "url", "message": caught.value.errors[0]["message"]}]
    assert "Refused to connect to 10.0.0.1" in caught.value.message
    assert SETTING in caught.value.message
