"""No secret reaches the logs: not passwords, tokens, JWTs or ciphertexts."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest

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
