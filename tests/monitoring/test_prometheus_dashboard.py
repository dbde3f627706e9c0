"""The real Prometheus (Debian's) scrapes a real ``digipersona serve`` on loopback through a small
publishing workload (a fake platform, the fake OpenAI server for an autopilot rule): every
dashboard expression returns data, and every alert expression parses (Prometheus also loads
alerts.yml itself)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cryptography.fernet import Fernet

from digipersona import db
from digipersona.kit.crypto import TokenCipher
from digipersona.kit.time import utcnow
from digipersona.models import (
    Base,
    Connection,
    GenerationRule,
    Persona,
    Post,
    Publication,
    Workspace,
)
from tests.conftest import _stamp_head
from tests.fakes import counting_platform
from tests.fakes.llm_openai import FakeOpenAI
from tests.fakes.server import free_port, serve

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "digipersona.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
PUBLISHED = 6
LOGS: list[str] = []  # where the processes' output goes, for a failure's message


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {LOGS}"
        time.sleep(0.2)


def seed(data: Path, key: str) -> None:
    """Due publications, one far too late (missed), a connection, an autopilot rule due now."""
    engine = db.make_engine(f"sqlite:///{data / 'digipersona.db'}")
    Base.metadata.create_all(engine)
    _stamp_head(engine)
    now = utcnow()
    with db.session_scope(db.make_sessionmaker(engine)) as s:
        ws = Workspace(name="Dashboard")
        s.add(ws)
        s.flush()
        persona = Persona(
            workspace_id=ws.id, name="P", max_lateness_minutes=60, topics=["remote work"]
        )
        s.add(persona)
        s.flush()
        conn = Connection(
            workspace_id=ws.id,
            persona_id=persona.id,
            platform="counting",
            account_id="c",
            access_token_enc=TokenCipher([key]).encrypt("t"),
        )
        s.add(conn)
        s.flush()
        for i in range(PUBLISHED + 1):
            due = now if i < PUBLISHED else now - timedelta(days=2)
            post = Post(
                workspace_id=ws.id,
                persona_id=persona.id,
                body=f"post {i}",
                status="scheduled",
                platforms=["counting"],
            )
            s.add(post)
            s.flush()
            s.add(
                Publication(
                    workspace_id=ws.id,
                    post_id=post.id,
                    connection_id=conn.id,
                    platform="counting",
                    scheduled_at=due,
                    next_attempt_at=due,
                    idempotency_key=uuid.uuid4().hex,
                )
            )
        s.add(
            GenerationRule(
                workspace_id=ws.id,
                persona_id=persona.id,
                rrule="FREQ=DAILY",
                platforms=["bluesky"],  # drafts for review: nothing is published
                next_run_at=now - timedelta(seconds=1),
            )
        )
    engine.dispose()


@pytest.fixture
def prometheus_bin() -> str:
    path = shutil.which("prometheus")
    if path is None:
        pytest.skip("prometheus is missing: run scripts/peers/install-prometheus.sh")
    return path


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    LOGS.append(str(log))
    with open(log, "wb") as out:
        return subprocess.Popen(
            args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@pytest.fixture
def stack(tmp_path: Path, prometheus_bin: str) -> Iterator[tuple[str, str]]:
    """serve (embedded: dispatcher and periodic jobs) and Prometheus scraping it every 0.5 s."""
    platform_server, _ = counting_platform.serve()
    llm = serve(FakeOpenAI())
    llm_server = llm.__enter__()
    key = Fernet.generate_key().decode()
    data = tmp_path / "data"
    data.mkdir()
    seed(data, key)
    port, prom_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGIPERSONA_")}
    env.update(
        {
            "DIGIPERSONA_DATA_DIR": str(data),
            "DIGIPERSONA_PORT": str(port),
            "DIGIPERSONA_SECRET_KEY": "p" + uuid.uuid4().hex * 2,
            "DIGIPERSONA_ENCRYPTION_KEYS": key,
            "DIGIPERSONA_PROVIDER_PLUGINS": "tests.fakes.counting_platform:CountingProvider",
            "DIGIPERSONA_COUNTING_URL": f"http://127.0.0.1:{platform_server.server_address[1]}",
            "DIGIPERSONA_DISPATCH_POLL_SECONDS": "0.05",
            "DIGIPERSONA_LLM_PROVIDER": "openai",
            "DIGIPERSONA_LLM_BASE_URL": llm_server.url + "/v1",
            "DIGIPERSONA_LLM_API_KEY": "test-key",
            "DIGIPERSONA_LLM_MODEL": "test-model",
            "DIGIPERSONA_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8",
            "DIGIPERSONA_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    config = tmp_path / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "500ms", "evaluation_interval": "1s"},
                "rule_files": [str(ALERTS)],
                "scrape_configs": [
                    {
                        "job_name": "digipersona",
                        "static_configs": [{"targets": [f"127.0.0.1:{port}"]}],
                    }
                ],
            }
        )
    )
    procs = [
        spawn([sys.executable, "-m", "digipersona", "serve"], env, tmp_path / "serve.log"),
        spawn(
            [
                prometheus_bin,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
            ],
            {k: v for k, v in os.environ.items() if not k.startswith("DIGIPERSONA_")},
            tmp_path / "prometheus.log",
        ),
    ]
    try:
        yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{prom_port}"
    finally:
        for proc in procs:
            stop(proc)
        llm.__exit__(None, None, None)
        platform_server.shutdown()


def query(prom: str, expr: str) -> dict[str, Any]:
    try:
        answer = httpx.get(f"{prom}/api/v1/query", params={"query": expr}, timeout=5)
    except httpx.HTTPError:
        return {"status": "unreachable"}
    body: dict[str, Any] = answer.json()
    return body


def has_data(prom: str, expr: str) -> bool:
    body = query(prom, expr)
    return body.get("status") == "success" and bool(body["data"]["result"])


def dashboard_targets() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        (panel["title"], target["expr"].replace("$__rate_interval", "1m"))
        for panel in dashboard["panels"]
        for target in panel["targets"]
    ]


def alert_expressions() -> list[str]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def test_every_dashboard_panel_returns_data_and_every_alert_parses(
    stack: tuple[str, str],
) -> None:
    web, prom = stack
    wait_for(lambda: has_data(prom, 'up{job="digipersona"} == 1'), 60, "the first scrape")
    wait_for(
        lambda: has_data(
            prom, f'sum(digipersona_publications_total{{outcome="published"}}) >= {PUBLISHED}'
        ),
        60,
        "the publications on a scrape",
    )
    wait_for(lambda: has_data(prom, "digipersona_ai_requests_total"), 60, "the autopilot run")
    for path in ("/healthz", "/login", "/no-such-page"):
        httpx.get(web + path, timeout=5)
    for title, expr in dashboard_targets():
        wait_for(lambda expr=expr: has_data(prom, expr), 30, f"data for {title}: {expr}")
    for expr in alert_expressions():
        body = query(prom, expr)
        assert body.get("status") == "success", (expr, body)
    rules = httpx.get(f"{prom}/api/v1/rules", timeout=5).json()["data"]["groups"]
    assert {r["name"] for g in rules for r in g["rules"]} == {
        rule["alert"] for rule in yaml.safe_load(ALERTS.read_text())["groups"][0]["rules"]
    }
