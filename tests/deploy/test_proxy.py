"""The Caddy example is valid for the real Caddy and keeps what the app needs: an unbuffered
event stream, the app on loopback, HSTS. The nginx example says the same in its own words."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CADDYFILE = ROOT / "deploy" / "proxy" / "Caddyfile"


def handlers(node: Any) -> list[dict[str, Any]]:
    """Every handler object in Caddy's JSON configuration, however deeply nested."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "handler" in node:
            found.append(node)
        for value in node.values():
            found += handlers(value)
    elif isinstance(node, list):
        for value in node:
            found += handlers(value)
    return found


@pytest.mark.tool
def test_caddyfile_is_valid_and_streams_events_unbuffered(tmp_path: Path) -> None:
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed (Debian: caddy; scripts/peers)")
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)}
    args = ["--config", str(CADDYFILE), "--adapter", "caddyfile"]
    validate = subprocess.run(
        [caddy, "validate", *args], capture_output=True, text=True, env=env, check=False
    )
    assert validate.returncode == 0, validate.stderr[-3000:]
    adapted = subprocess.run(
        [caddy, "adapt", *args], capture_output=True, text=True, env=env, check=True
    )
    found = handlers(json.loads(adapted.stdout))
    (proxy,) = [h for h in found if h["handler"] == "reverse_proxy"]
    assert proxy["flush_interval"] == -1
    assert proxy["upstreams"] == [{"dial": "127.0.0.1:8000"}]
    assert not [h for h in found if h["handler"] == "encode"]
    headers = [h for h in found if h["handler"] == "headers"]
    assert any("Strict-Transport-Security" in h["response"]["set"] for h in headers)


def test_nginx_example_does_not_buffer_the_event_stream() -> None:
    text = (ROOT / "deploy" / "proxy" / "nginx.conf").read_text()
    events = text.split("location = /events", 1)[1].split("}", 1)[0]
    assert "proxy_buffering off;" in events
    assert "proxy_set_header X-Forwarded-For" in events
    assert "proxy_set_header X-Forwarded-Proto" in events
    assert "proxy_pass http://127.0.0.1:8000;" in text
