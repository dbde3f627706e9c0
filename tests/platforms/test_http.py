"""The shared transport-failure rule of ``platforms/http.py``."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from digipersona.platforms import errors
from digipersona.platforms import http as platform_http


def _client(exc: Exception) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return httpx.Client(transport=httpx.MockTransport(handler))


def _send(exc: Exception, *, write: bool) -> None:
    with _client(exc) as http:
        platform_http.send(
            http, "POST", "http://127.0.0.1:9/x", platform="p", write=write, timeout_seconds=1
        )


@pytest.mark.parametrize(
    "exc",
    [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.WriteTimeout("w")],
)
@pytest.mark.parametrize("write", [True, False])
def test_nothing_sent_is_transient(exc: Exception, write: bool) -> None:
    with pytest.raises(errors.Transient, match="nothing was sent"):
        _send(exc, write=write)


@pytest.mark.parametrize(
    "exc",
    [httpx.ReadTimeout("late"), httpx.RemoteProtocolError("closed"), httpx.ReadError("reset")],
)
def test_sent_but_unanswered_write_is_unknown(exc: Exception) -> None:
    with pytest.raises(errors.UnknownOutcome, match="may have been applied"):
        _send(exc, write=True)


def test_sent_but_unanswered_read_is_transient() -> None:
    with pytest.raises(errors.Transient):
        _send(httpx.ReadTimeout("late"), write=False)


def test_a_real_refused_connection_is_transient() -> None:
    with (
        httpx.Client() as http,
        pytest.raises(errors.Transient),
    ):
        # Port 9 (discard) is closed on loopback here: a real ConnectError.
        platform_http.send(
            http, "POST", "http://127.0.0.1:9/", platform="p", write=True, timeout_seconds=1
        )


@pytest.mark.parametrize(
    ("status", "write", "expected"),
    [
        (500, True, errors.UnknownOutcome),
        (502, True, errors.UnknownOutcome),
        (504, True, errors.UnknownOutcome),
        (503, True, errors.Transient),
        (500, False, errors.Transient),
    ],
)
def test_server_error_rule(status: int, write: bool, expected: type[Exception]) -> None:
    error = platform_http.server_error(status, platform="p", write=write, message="m")
    assert type(error) is expected
    assert error.status_code == status


def test_epoch_reset_parsing() -> None:
    assert platform_http.epoch_reset("1767225600") == datetime(2026, 1, 1, tzinfo=UTC)
    assert platform_http.epoch_reset("soon") is None
    assert platform_http.epoch_reset(None) is None
    headers = {"X-Rate-Limit-Reset": "1767225600"}
    assert platform_http.header_reset(headers, "x-rate-limit-reset") == datetime(
        2026, 1, 1, tzinfo=UTC
    )


def test_calendar_resets() -> None:
    now = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
    assert platform_http.next_utc_midnight(now) == datetime(2027, 1, 1, tzinfo=UTC)
    assert platform_http.first_of_next_month(now) == datetime(2027, 1, 1, tzinfo=UTC)
    assert platform_http.first_of_next_month(datetime(2026, 3, 5, tzinfo=UTC)) == datetime(
        2026, 4, 1, tzinfo=UTC
    )


@pytest.mark.parametrize("write", [True, False])
def test_an_outbound_guard_refusal_is_permanent_and_sends_nothing(write: bool) -> None:
    from digipersona.config import Settings
    from digipersona.kit import outbound
    from tests.fakes.server import serve

    seen: list[str] = []

    def app(environ: dict[str, object], start_response: object) -> list[bytes]:
        seen.append(str(environ["PATH_INFO"]))
        raise AssertionError("the guard let a request through")

    guarded = outbound.client(Settings(outbound_allowed_networks=""))
    with serve(app) as server, pytest.raises(errors.Permanent) as caught:
        platform_http.send(
            guarded, "POST", f"{server.url}/x", platform="p", write=write, timeout_seconds=1
        )
    assert type(caught.value) is errors.Permanent
    assert caught.value.message.startswith("Nothing was sent to p for POST /x. Refused to")
    assert "DIGIPERSONA_OUTBOUND_ALLOWED_NETWORKS" in caught.value.message
    assert seen == []
