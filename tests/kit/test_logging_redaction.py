"""No secret reaches the logs: not passwords, tokens, JWTs or ciphertexts."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from digipersona.kit import security
from digipersona.kit.logging import RedactingFilter, configure_logging, redact
from tests.conftest import PASSWORD


@pytest.mark.parametrize(
    "line",
    [
        "Authorization: Bearer abc.def-ghi",
        "token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        "got dp_pat_AbCdEfGhIjKlMnOp",
        '{"password": "hunter2 hunter2"}',
        "refresh_token=dp_rt_1234567890abc&x=1",
        "stored gAAAAABlZ2VuZXJhdGVkZmVybmV0Y2lwaGVydGV4dA==",
        "app_password: abcd-efgh-ijkl-mnop",
    ],
)
def test_redact_masks_credentials(line: str) -> None:
    out = redact(line)
    assert "REDACTED" in out
    for secret in (
        "abc.def-ghi",
        "c2lnbmF0dXJl",
        "AbCdEfGhIjKlMnOp",
        "hunter2",
        "1234567890abc",
        "abcd-efgh",
    ):
        assert secret not in out


def test_json_log_lines_are_redacted_and_carry_request_id(client: Any, owner: Any) -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", "json")
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "_digipersona", False))
    handler.stream = stream  # type: ignore[attr-defined]
    # A careless log line in our own code with every kind of secret in it:
    logging.getLogger("digipersona.test").info(
        "login %s with password=%s got %s", owner.email, PASSWORD, owner.token
    )
    client.post("/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD})
    client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
    output = stream.getvalue()
    assert owner.token not in output
    assert owner.refresh_token not in output
    assert PASSWORD not in output
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    http = [r for r in records if r["logger"] == "digipersona.http"]
    assert http and all(r["request_id"] != "-" for r in http)
    configure_logging("WARNING", "text")


def test_filter_handles_bad_format_args() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d items", ("x",), None)
    assert RedactingFilter().filter(record)
    assert record.msg


# -- every token the app issues, wherever a URL carries it ---------------------------------------
SRC = Path(__file__).resolve().parents[2] / "src" / "digipersona"


def issued_prefixes() -> list[str]:
    """Every ``dp_<kind>_`` prefix written in the source: a new kind is tested without asking."""
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        found |= set(re.findall(r"[\"'](dp_[a-z]+_)[\"']", path.read_text(encoding="utf-8")))
    return sorted(found)


def test_the_prefix_scan_finds_every_known_token_kind() -> None:
    assert {"dp_pat_", "dp_rt_", "dp_inv_", "dp_ical_", "dp_hook_", "dp_rl_"} <= set(
        issued_prefixes()
    )


@pytest.mark.parametrize("prefix", issued_prefixes())
@pytest.mark.parametrize(
    "template",
    [
        "got {token}",
        "GET /register?invitation={token} HTTP/1.1",
        "GET /x?a=1&token={token}&b=2",
        "GET /ical/{token}.ics",
        "POST /review/{token}/decide HTTP/1.1",
        '{{"refresh_token": "{token}"}}',
        "Authorization: Bearer {token}",
    ],
)
def test_every_issued_token_kind_is_redacted(prefix: str, template: str) -> None:
    token = security.new_token(prefix)
    assert token not in redact(template.format(token=token))


@pytest.mark.parametrize(
    "line",
    [
        "GET /api/v1/integrations/linkedin/callback?code=AQT-oauth-code-123&state=st4te-v4lue",
        "GET /api/v1/integrations/x/callback?state=st4te-v4lue&code=AQT-oauth-code-123",
        "GET /ical/not-even-our-prefix-but-a-feed.ics",
        "GET /review/not-even-our-prefix-but-a-review-link",
    ],
)
def test_secrets_in_urls_without_our_prefix_are_redacted(line: str) -> None:
    out = redact(line)
    for secret in ("AQT-oauth-code-123", "st4te-v4lue", "not-even-our-prefix"):
        assert secret not in out
    # the route itself stays readable
    assert "/callback?" in out or "/ical/" in out or "/review/" in out


def _capture(fmt: str) -> io.StringIO:
    stream = io.StringIO()
    configure_logging("INFO", fmt)
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "_digipersona", False))
    handler.stream = stream  # type: ignore[attr-defined]
    return stream


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_uvicorn_access_lines_do_not_show_an_invitation(fmt: str) -> None:
    token = security.new_token("dp_inv_")
    # What a uvicorn.Config(log_level="warning") elsewhere in the process leaves behind (the
    # loopback fakes run one): configure_logging must take the access logger back.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    stream = _capture(fmt)
    try:
        # Exactly how uvicorn.protocols.http logs an access line.
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:50000",
            "GET",
            f"/register?invitation={token}",
            "1.1",
            200,
        )
    finally:
        configure_logging("WARNING", "text")
    output = stream.getvalue()
    assert "/register?invitation=" in output
    assert token not in output and token[7:] not in output


def test_json_access_log_path_hides_the_ical_feed_and_the_invitation(
    client: Any, owner: Any
) -> None:
    feed_url = owner.post("/api/v1/calendar/feed").json()["url"]
    feed_path = urlsplit(feed_url).path
    invite = owner.post(
        "/api/v1/workspace/invitations", json={"email": "new@example.com", "role": "editor"}
    ).json()
    stream = _capture("json")
    try:
        assert client.get(feed_path).status_code == 200
        client.get(f"/register?invitation={invite['token']}")
    finally:
        configure_logging("WARNING", "text")
    output = stream.getvalue()
    feed_token = feed_path.rsplit("/", 1)[1].removesuffix(".ics")
    assert feed_token not in output and invite["token"] not in output
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    paths = [r["path"] for r in records if r["logger"] == "digipersona.http"]
    assert "/ical/[REDACTED]" in paths
