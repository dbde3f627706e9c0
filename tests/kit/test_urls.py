"""Only absolute http(s) links from outside may become an href."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from digipersona.kit.urls import http_url
from digipersona.platforms.base import (
    InboundInteraction,
    Profile,
    PublishedPart,
    PublishResult,
)


@pytest.mark.parametrize(
    "url",
    [
        "https://x.com/ada/status/1",
        "http://127.0.0.1:8080/posts/1?a=b#c",
        "HTTPS://www.linkedin.com/feed/update/urn:li:share:1",
    ],
)
def test_http_urls_pass(url: str) -> None:
    assert http_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.domain)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "\x01javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/x",
        "/relative/path",
        "https:no-host",
        "http://[::1",
        "https://example.com/" + "a" * 3000,
        "",
        None,
        42,
    ],
)
def test_everything_else_is_refused(url: object) -> None:
    assert http_url(url) is None


def test_every_result_type_drops_a_non_http_url() -> None:
    evil = "javascript:alert(document.domain)"
    assert PublishResult(external_id="1", url=evil).url is None
    assert PublishedPart(index=0, external_id="1", url=evil).url is None
    assert Profile(account_id="a", handle="h", url=evil, avatar_url=evil) == Profile(
        account_id="a", handle="h"
    )
    item = InboundInteraction(
        external_id="1",
        kind="reply",
        text="hi",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        author_id="a",
        author_handle="a",
        url=evil,
    )
    assert item.url is None
    assert PublishResult(external_id="1", url="https://ok.example/1").url == "https://ok.example/1"
