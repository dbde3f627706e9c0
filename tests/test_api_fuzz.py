"""Fuzz every JSON API operation with schemathesis, in-process, as a workspace owner.

Fails on any 5xx and on any answer the OpenAPI document does not describe (status
code, content type, body schema). Bounded: a fixed seed, ``FUZZ_EXAMPLES`` generated cases per
operation and phase, and no network: name resolution and connections to anything but loopback
fail at once, so an operation that would call out (a PDS, a webhook, a feed) answers its
"unreachable" error instead of reaching the internet or hanging.

Run it alone with ``pytest tests/test_api_fuzz.py -m slow``; it takes a few minutes.
"""

from __future__ import annotations

import faulthandler
import ipaddress
import os
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from digipersona.models import Persona, Post
from tests.conftest import Actor, make_settings, register_actor

pytestmark = pytest.mark.slow

SEED = 15
FUZZ_EXAMPLES = int(os.environ.get("DIGIPERSONA_FUZZ_EXAMPLES", "12"))
CASE_SECONDS = 10
# A hard stop for a run that hangs anyway: dump every thread's stack and end the process.
RUN_SECONDS = 900
# Operations left out, each with the reason (owned elsewhere, to be removed once fixed there).
EXCLUDED: dict[str, str] = {}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _loopback(host: Any) -> bool:
    if host in ("localhost", "testserver"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse every name lookup and connection that is not loopback, immediately."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, f"fuzz test: no DNS for {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> None:
        if isinstance(address, tuple) and not _loopback(address[0]):
            raise ConnectionRefusedError(f"fuzz test: no connection to {address[0]!r}")
        real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


@dataclass
class World:
    """The app, its owner, and live objects that path parameters point at half of the time."""

    app: Any
    client: TestClient
    owner: Actor
    persona_id: str = ""
    post_id: str = ""
    calls: int = 0

    def ensure_objects(self) -> None:
        with self.app.state.sessionmaker() as session:
            persona = session.get(Persona, uuid.UUID(self.persona_id)) if self.persona_id else None
            post = session.get(Post, uuid.UUID(self.post_id)) if self.post_id else None
        if persona is None:
            r = self.owner.post("/api/v1/personas", json={"name": f"Fuzz {uuid.uuid4().hex[:8]}"})
            assert r.status_code == 201, r.text
            self.persona_id = r.json()["id"]
            post = None
        if post is None:
            r = self.owner.post(
                "/api/v1/content",
                json={
                    "persona_id": self.persona_id,
                    "body": "A post about platform teams",
                    "platforms": ["linkedin", "x", "bluesky"],
                },
            )
            assert r.status_code == 201, r.text
            self.post_id = r.json()["id"]

    def aim(self, case: Any) -> None:
        """On every other call, point the case's ids at objects that exist."""
        self.calls += 1
        if self.calls % 2:
            return
        self.ensure_objects()
        live = {"persona_id": self.persona_id, "post_id": self.post_id}
        params = case.path_parameters or {}
        for name, value in live.items():
            if name in params:
                params[name] = value
        if isinstance(case.body, dict) and "persona_id" in case.body:
            case.body["persona_id"] = self.persona_id


@pytest.fixture
def world(database_url: str, tmp_path: Path, no_network: None) -> Iterator[World]:
    from digipersona.app import create_app

    app = create_app(make_settings(tmp_path, database_url, outbound_allowed_networks=""))
    with TestClient(app) as client:
        owner = register_actor(client, "owner", "Acme")
        yield World(app=app, client=client, owner=owner)


def _without_lifespan(app: Any) -> Any:
    """The app for schemathesis's client; the test's own TestClient runs the lifespan."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("lifespan is run by the test's TestClient")
        await app(scope, receive, send)

    return asgi


@dataclass
class Report:
    """What the run did and the first failure of each operation, check and status."""

    cases: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: dict[tuple[str, str], str] = field(default_factory=dict)

    def record(self, label: str, case: Any, response: Any, exc: BaseException | None) -> None:
        self.cases[label] = self.cases.get(label, 0) + 1
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        if exc is None:
            return
        failures = exc.exceptions if isinstance(exc, FailureGroup) else [exc]
        for failure in failures:
            title = getattr(failure, "title", type(failure).__name__)
            key = (label, f"{title} ({response.status_code})")
            if key not in self.failures:
                self.failures[key] = (
                    f"{failure}\n  reproduce: {case.as_curl_command()}\n"
                    f"  answered: {response.text[:500]}"
                )

    def crash(self, label: str, case: Any, exc: Exception) -> None:
        self.cases[label] = self.cases.get(label, 0) + 1
        self.statuses[500] = self.statuses.get(500, 0) + 1
        key = (label, f"unhandled {type(exc).__name__}")
        if key not in self.failures:
            self.failures[key] = f"{exc}\n  reproduce: {case.as_curl_command()}"

    def describe(self) -> str:
        return "\n\n".join(
            f"{label}: {title}\n{text}" for (label, title), text in self.failures.items()
        )


def _fuzz(world: World, operation: Any, mode: GenerationMode, report: Report) -> None:
    strategy = operation.as_strategy(generation_mode=mode)

    @seed(SEED)
    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        # No shrinking: a failure is recorded with its reproducer, and the run stays bounded.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        world.aim(case)
        started = time.monotonic()
        try:
            response = case.call(headers=world.owner.headers, allow_redirects=False)
        except Exception as exc:  # the in-process client re-raises what the app did not handle
            report.crash(operation.label, case, exc)
            return
        elapsed = time.monotonic() - started
        try:
            assert elapsed < CASE_SECONDS, f"took {elapsed:.1f} s"
            case.validate_response(response, checks=CHECKS, headers=world.owner.headers)
        except (AssertionError, FailureGroup) as exc:
            report.record(operation.label, case, response, exc)
        else:
            report.record(operation.label, case, response, None)

    try:
        run()
    except Unsatisfiable:
        # Nothing to make invalid (no parameters, no body): negative mode has no case to run.
        assert mode is GenerationMode.NEGATIVE, f"{operation.label}: no valid case generated"


def test_every_operation_answers_without_5xx_and_as_documented(world: World) -> None:
    config = SchemathesisConfig.from_dict({"seed": SEED})
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", _without_lifespan(world.app), config=config
    )
    report = Report()
    started = time.monotonic()
    faulthandler.dump_traceback_later(RUN_SECONDS, exit=True)
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.label in EXCLUDED:
                continue
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz(world, operation, mode, report)
    finally:
        faulthandler.cancel_dump_traceback_later()
    elapsed = time.monotonic() - started
    print(
        f"\nfuzzed {len(report.cases)} operations with {sum(report.cases.values())} cases in "
        f"{elapsed:.0f} s; statuses {dict(sorted(report.statuses.items()))}"
    )
    assert not report.failures, f"{len(report.failures)} failures:\n\n{report.describe()}"
