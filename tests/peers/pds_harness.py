"""Run the official Bluesky PDS (plus an in-memory PLC directory) on loopback for tests.

The servers come from ``scripts/peers/install-pds.sh`` (an npm install kept outside the
checkout, in ``${DIGIPERSONA_PEERS_DIR:-~/.cache/digipersona/peers}/pds``) and are started by
``tests/peers/pds/start.js`` with a preload that binds every listener to 127.0.0.1.

Usage::

    install = find_install()            # None when the PDS is not installed
    with PdsPeer.start(install) as pds:
        account = pds.create_account("alice")
        app_password = pds.create_app_password(account)
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from tests.fakes.server import free_port

HERE = Path(__file__).resolve().parent / "pds"
START_SCRIPT = HERE / "start.js"
PRELOAD_SCRIPT = HERE / "loopback.js"
INSTALL_SCRIPT = "scripts/peers/install-pds.sh"
READY_PREFIX = "PDS_READY "


def install_dir() -> Path:
    """Where install-pds.sh puts the npm install."""
    base = os.environ.get("DIGIPERSONA_PEERS_DIR") or str(
        Path.home() / ".cache" / "digipersona" / "peers"
    )
    return Path(base) / "pds"


def find_install() -> tuple[Path | None, str]:
    """The install directory, or None and a one-line reason why it cannot be used."""
    node = shutil.which("node")
    if node is None:
        return None, "node is not on PATH (the Bluesky PDS needs Node 20)"
    target = install_dir()
    for package in ("@atproto/pds", "@did-plc/server", "better-sqlite3"):
        if not (target / "node_modules" / package / "package.json").is_file():
            return None, f"the Bluesky PDS is not installed in {target}: run {INSTALL_SCRIPT}"
    # Installs made before the @atproto/repo pin lose image posts silently (install-pds.sh).
    try:
        manifest = json.loads((target / "package.json").read_text())
    except (OSError, ValueError):
        manifest = {}
    if "@atproto/repo" not in (manifest.get("overrides") or {}):
        return None, f"the Bluesky PDS in {target} is outdated: run {INSTALL_SCRIPT}"
    return target, ""


@dataclass(frozen=True)
class Account:
    """An account created on the test PDS (``password`` is the main password)."""

    handle: str
    did: str
    password: str
    email: str
    access_jwt: str
    refresh_jwt: str


@dataclass
class PdsPeer:
    """A running PLC + PDS pair; stop it with ``stop()`` (or use it as a context manager)."""

    process: subprocess.Popen[str]
    url: str
    plc_url: str
    jwt_secret: str
    admin_password: str
    data_dir: Path
    output: list[str] = field(default_factory=list)
    _counter: int = 0

    @classmethod
    def start(
        cls,
        install: Path,
        *,
        rate_limits: bool = True,
        timeout_seconds: float = 60.0,
    ) -> PdsPeer:
        """Start PLC and PDS on free loopback ports and wait until ``/xrpc/_health`` answers."""
        plc_port, pds_port = free_port(), free_port()
        while pds_port == plc_port:
            pds_port = free_port()
        data_dir = Path(tempfile.mkdtemp(prefix="digipersona-pds-"))
        jwt_secret = secrets.token_hex(16)
        admin_password = secrets.token_hex(16)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", str(data_dir)),
            "PDS_INSTALL_DIR": str(install),
            "PLC_PORT": str(plc_port),
            "PDS_PORT": str(pds_port),
            "PDS_HOSTNAME": "localhost",
            "PDS_DEV_MODE": "true",
            "PDS_JWT_SECRET": jwt_secret,
            "PDS_ADMIN_PASSWORD": admin_password,
            "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX": secrets.token_hex(32),
            "PDS_DATA_DIRECTORY": str(data_dir),
            "PDS_BLOBSTORE_DISK_LOCATION": str(data_dir / "blocks"),
            "PDS_DID_PLC_URL": f"http://127.0.0.1:{plc_port}",
            "PDS_INVITE_REQUIRED": "false",
            "PDS_CRAWLERS": "",
            "PDS_RATE_LIMITS_ENABLED": "true" if rate_limits else "false",
            "LOG_ENABLED": os.environ.get("DIGIPERSONA_PDS_LOG", "false"),
        }
        process = subprocess.Popen(
            ["node", "-r", str(PRELOAD_SCRIPT), str(START_SCRIPT)],
            cwd=str(HERE),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        peer = cls(
            process=process,
            url=f"http://127.0.0.1:{pds_port}",
            plc_url=f"http://127.0.0.1:{plc_port}",
            jwt_secret=jwt_secret,
            admin_password=admin_password,
            data_dir=data_dir,
        )
        ready = threading.Event()
        threading.Thread(target=peer._drain, args=(ready,), daemon=True).start()
        try:
            peer._wait_ready(ready, timeout_seconds)
        except BaseException:
            peer.stop()
            raise
        return peer

    def _drain(self, ready: threading.Event) -> None:
        # Keep reading so the child never blocks on a full pipe; remember the tail for errors.
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith(READY_PREFIX):
                ready.set()
            self.output.append(line.rstrip())
            del self.output[:-200]

    def _wait_ready(self, ready: threading.Event, timeout_seconds: float) -> None:
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    "the PDS exited during start-up:\n" + "\n".join(self.output[-30:])
                )
            if ready.wait(0.2):
                with suppress(httpx.TransportError):
                    if httpx.get(f"{self.url}/xrpc/_health", timeout=2).status_code == 200:
                        return
        raise RuntimeError(
            f"the PDS did not answer /xrpc/_health within {timeout_seconds:.0f}s:\n"
            + "\n".join(self.output[-30:])
        )

    def stop(self, timeout_seconds: float = 10.0) -> None:
        """Stop the process we started (by its PID) and remove its data directory."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_seconds)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout_seconds)
        if self.process.stdout is not None:
            self.process.stdout.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> PdsPeer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- accounts --------------------------------------------------------------------------
    def xrpc(
        self, method: str, nsid: str, *, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """One raw XRPC call (for test set-up and for reading records back)."""
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.request(
            method, f"{self.url}/xrpc/{nsid}", headers=headers, timeout=30, **kwargs
        )

    def create_account(self, name: str | None = None, *, password: str | None = None) -> Account:
        """Create an account with a unique ``<name>N.test`` handle (and a random password)."""
        self._counter += 1
        handle = f"{name or 'user'}{self._counter}{secrets.token_hex(2)}.test"
        password = password or secrets.token_urlsafe(18)
        email = f"{handle.removesuffix('.test')}@example.com"
        response = self.xrpc(
            "POST",
            "com.atproto.server.createAccount",
            json={"handle": handle, "email": email, "password": password},
        )
        response.raise_for_status()
        body = response.json()
        return Account(
            handle=body["handle"],
            did=body["did"],
            password=password,
            email=email,
            access_jwt=body["accessJwt"],
            refresh_jwt=body["refreshJwt"],
        )

    def create_app_password(self, account: Account, name: str | None = None) -> str:
        """An app password (``xxxx-xxxx-xxxx-xxxx``) made in a session with the main password."""
        session = self.xrpc(
            "POST",
            "com.atproto.server.createSession",
            json={"identifier": account.handle, "password": account.password},
        )
        session.raise_for_status()
        response = self.xrpc(
            "POST",
            "com.atproto.server.createAppPassword",
            token=session.json()["accessJwt"],
            json={"name": name or f"digipersona-{secrets.token_hex(3)}"},
        )
        response.raise_for_status()
        return str(response.json()["password"])

    def list_records(self, did: str, collection: str = "app.bsky.feed.post") -> list[Any]:
        """Every record of a collection in a repo (for counting posts)."""
        records: list[Any] = []
        cursor: str | None = None
        while True:
            params = {"repo": did, "collection": collection, "limit": "100"}
            if cursor:
                params["cursor"] = cursor
            response = self.xrpc("GET", "com.atproto.repo.listRecords", params=params)
            response.raise_for_status()
            body = response.json()
            records.extend(body["records"])
            cursor = body.get("cursor")
            if not cursor or not body["records"]:
                return records


def running_peer(install: Path) -> Iterator[PdsPeer]:
    """A generator for fixtures: start a peer, yield it, always stop it."""
    peer = PdsPeer.start(install)
    try:
        yield peer
    finally:
        peer.stop()
