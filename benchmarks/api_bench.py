"""Web and API latency at 100,000 posts, as ratios to a bare FastAPI endpoint in the same run.

    .venv/bin/python benchmarks/api_bench.py                      # SQLite, 100,000 posts
    .venv/bin/python benchmarks/api_bench.py --db both --cache ~/.cache/dp-api-bench
    .venv/bin/python benchmarks/api_bench.py --quick              # 2,000 posts, 2 s each

Seeds a workspace through the product's tables (see api_bench_seed.py: 6 personas, 12
connections, N posts over 3 years, ~0.96 N publications, metric history, 0.3 N interactions),
starts `digipersona serve` as a user would (DIGIPERSONA_* environment, 127.0.0.1, embedded
worker on, default log level) and, beside it, a bare FastAPI app under the same uvicorn settings
whose one sync endpoint reads one posts row by primary key from a copy of the same database.
Then `wrk` (32 keep-alive connections, one thread) loads each endpoint in turn, the bare one
before each of them and once more at the end; every ratio uses the bare run just before it.

Printed per endpoint: requests/s, p50/p95/p99 latency, errors (non-2xx responses plus socket
errors and timeouts), the response size of one request (before compression), and p99 and
throughput as ratios to the bare endpoint. Also: serve's resident memory (RSS) before and after
the load and its peak, the time from starting `serve` to the first /healthz 200, the time of
`digipersona --help`, the machine's load average. The targets are printed as met or not; nothing
asserts. The table is Markdown, to paste into a note.

Needs `wrk` (Debian: `apt-get install -y wrk`; scripts/peers/install-all.sh installs it) and,
for `--db postgresql`, PostgreSQL on 127.0.0.1:5432 as user postgres with trust auth (or
DIGIPERSONA_TEST_PG_URL): a fresh database is created and dropped after the run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import api_bench_seed as seeding  # noqa: E402

ROOT = seeding.ROOT
WRK_HINT = (
    "wrk (the HTTP load generator) is not installed: on Debian/Ubuntu run "
    "`apt-get install -y wrk` (as root; scripts/peers/install-all.sh does it), elsewhere see "
    "https://github.com/wg/wrk"
)
TARGET_P99_RATIO = 5.0
TARGET_HEALTHZ_THROUGHPUT = 0.8
TARGET_CALENDAR_KB = 150


@dataclass
class Endpoint:
    """One thing to load: a method and path, how it authenticates, a JSON body for POSTs."""

    name: str
    path: str
    auth: str | None  # "bearer", "cookie" or None
    method: str = "GET"
    body: dict[str, Any] | None = None


@dataclass
class Run:
    """What one wrk run measured (latencies in milliseconds)."""

    requests: int
    seconds: float
    rps: float
    p50: float
    p95: float
    p99: float
    max: float
    non2xx: int
    socket_errors: int
    connections: int

    @property
    def errors(self) -> int:
        return self.non2xx + self.socket_errors

    def beyond_run(self, q: float) -> bool:
        """Whether the q-th percentile is known to exceed the run itself: wrk counts only
        answered requests, but a connection that got no answer at all had one request running
        for the whole run, and at most ``requests + connections`` were sent."""
        unanswered = max(0, self.connections - self.requests)
        return unanswered / (self.requests + self.connections) > 1 - q / 100

    def latency(self, q: float) -> float:
        """The q-th percentile in ms, or the run's length when it is known to be longer."""
        if self.beyond_run(q):
            return self.seconds * 1000
        return {50: self.p50, 95: self.p95, 99: self.p99}[int(q)]

    def cell(self, q: float) -> str:
        value = self.latency(q)
        return f"> {value:.0f}" if self.beyond_run(q) else fmt_ms(value)


@dataclass
class Row:
    endpoint: Endpoint
    run: Run
    baseline: Run
    size: int  # bytes of one response body, decoded
    status: int  # of the check request before the load
    alone_ms: float  # one request while the server is otherwise idle

    @property
    def p99_ratio(self) -> float:
        return self.run.latency(99) / self.baseline.p99 if self.baseline.p99 else float("nan")

    @property
    def met(self) -> bool:
        return self.p99_ratio <= TARGET_P99_RATIO and self.run.errors == 0


@dataclass
class Report:
    backend: str
    posts: int
    seeded: str
    rows: list[Row] = field(default_factory=list)
    baselines: list[Run] = field(default_factory=list)
    startup_s: float = 0.0
    rss_before_mb: float = 0.0
    rss_after_mb: float = 0.0
    rss_peak_mb: float = 0.0
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    log_problems: list[str] = field(default_factory=list)
    drain_s: float = 0.0  # waiting for serve to finish requests wrk had abandoned
    unsettled: int = 0  # waits that reached IDLE_TIMEOUT


def endpoints(persona_id: str) -> list[Endpoint]:
    """The endpoints of issue 16, in the order they are loaded (the draft POST last: it
    adds posts)."""
    today = datetime.now(UTC).date()
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    month = f"start={first.isoformat()}T00:00:00Z&end={following.isoformat()}T00:00:00Z"
    return [
        Endpoint("/healthz", "/healthz", None),
        Endpoint("GET /api/v1/content (first page)", "/api/v1/content", "bearer"),
        Endpoint("GET /api/v1/calendar (one month)", f"/api/v1/calendar?{month}", "bearer"),
        Endpoint("GET /api/v1/interactions", "/api/v1/interactions", "bearer"),
        Endpoint("/calendar (month page)", "/calendar", "cookie"),
        Endpoint("/content", "/content", "cookie"),
        Endpoint("/dashboard", "/dashboard", "cookie"),
        Endpoint("/approvals", "/approvals", "cookie"),
        Endpoint("/interactions", "/interactions", "cookie"),
        Endpoint("/analytics", "/analytics", "cookie"),
        Endpoint(
            "POST /api/v1/content (draft)",
            "/api/v1/content",
            "bearer",
            method="POST",
            body={
                "persona_id": persona_id,
                "body": "A benchmark draft about shipping small changes often, number ",
                "platforms": ["x", "linkedin"],
                "tags": ["ops"],
            },
        ),
    ]


# -- processes -------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM the process group (serve drains), SIGKILL after 20 s."""
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def wait_http(url: str, proc: subprocess.Popen[Any], log: Path, timeout: float = 120) -> float:
    """Poll ``url`` until it answers 200; returns the seconds since this call."""
    started = time.perf_counter()
    deadline = started + timeout
    with httpx.Client(timeout=5) as client:
        while time.perf_counter() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{url} server exited:\n{tail(log)}")
            with suppress(httpx.TransportError):
                if client.get(url).status_code == 200:
                    return time.perf_counter() - started
            time.sleep(0.01)
    raise TimeoutError(f"{url} did not answer 200 within {timeout} s:\n{tail(log)}")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


IDLE_TIMEOUT = 300.0
# All the waiting one backend may do, so a very slow product still finishes in bounded time.
DRAIN_BUDGET = 600.0


def wait_idle(pids: list[int], timeout: float = IDLE_TIMEOUT) -> float:
    """Wait until the servers are idle (under 15 % of a core over 0.3 s), so requests still
    running after a load (wrk left, the sync endpoints go on) do not count against the next
    one; returns the seconds waited (``timeout`` when they never settled)."""
    hz = os.sysconf("SC_CLK_TCK")
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = [cpu_ticks(p) for p in pids]
        time.sleep(0.3)
        if all((cpu_ticks(p) - b) / hz < 0.3 * 0.15 for p, b in zip(pids, before, strict=True)):
            return time.monotonic() - started - 0.3
    return timeout


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def help_seconds(runs: int) -> float:
    """Median wall time of ``runs`` runs of `digipersona --help`."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([seeding.digipersona_exe(), "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# -- the bare baseline ------------------------------------------------------------------------------
def serve_bare(url: str, port: int, post_id: str) -> None:
    """The baseline: one sync endpoint reading one posts row by primary key (own process)."""
    import uuid

    import uvicorn
    from fastapi import FastAPI
    from sqlalchemy import select

    from digipersona import db
    from digipersona.models import Post

    engine = db.make_engine(url)
    stmt = select(Post.id, Post.status, Post.body, Post.created_at).where(
        Post.id == uuid.UUID(post_id)
    )
    app = FastAPI()

    @app.get("/bare")
    def bare() -> dict[str, str]:
        with engine.connect() as conn:
            row = conn.execute(stmt).one()
        return {
            "id": str(row.id),
            "status": row.status,
            "body": row.body,
            "created_at": row.created_at.isoformat(),
        }

    # The uvicorn settings of `digipersona serve` (cli/server.py).
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run()


# -- wrk ----------------------------------------------------------------------------------------------
LUA_COMMON = """
local threads = {}
non2xx = 0
function setup(thread)
  table.insert(threads, thread)
end
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("non2xx") end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"timeout": %d, "non2xx": %d, "p50": %d, "p95": %d, "p99": %d, "max": %d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, bad,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""

LUA_POST = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local prefix = [==[{prefix}]==]
local suffix = [==[{suffix}]==]
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, prefix .. counter .. suffix)
end
"""


def lua_script(work: Path, endpoint: Endpoint) -> Path:
    script = LUA_COMMON
    if endpoint.body is not None:
        # The draft's body text ends with a counter, so every draft differs.
        marker = "\u0000"
        body = dict(endpoint.body, body=endpoint.body["body"] + marker)
        prefix, suffix = json.dumps(body).split(json.dumps(marker)[1:-1])
        script = LUA_POST.format(prefix=prefix, suffix=suffix) + script
    path = work / f"wrk-{abs(hash(endpoint.name))}.lua"
    path.write_text(script)
    return path


def wrk(url: str, headers: dict[str, str], script: Path, seconds: float, connections: int) -> Run:
    """Load ``url`` with wrk for ``seconds``; parse the figures its Lua ``done`` prints."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "60s"]
    cmd += ["-s", str(script)]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    r = json.loads(line.removeprefix("BENCH "))
    secs = r["duration_us"] / 1e6
    return Run(
        requests=r["requests"],
        seconds=secs,
        rps=r["requests"] / secs if secs else float("nan"),
        p50=r["p50"] / 1000,
        p95=r["p95"] / 1000,
        p99=r["p99"] / 1000,
        max=r["max"] / 1000,
        non2xx=r["non2xx"],
        socket_errors=r["connect"] + r["read"] + r["write"] + r["timeout"],
        connections=connections,
    )


# -- logging in ------------------------------------------------------------------------------------
def login(base: str, email: str, password: str) -> tuple[str, str]:
    """A session cookie (the /login form, with its CSRF token) and an API token (POST
    /api/v1/tokens with the access token of /api/v1/auth/login)."""
    with httpx.Client(base_url=base, timeout=60, follow_redirects=False) as web:
        page = web.get("/login")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        if page.status_code != 200 or not found:
            raise RuntimeError(f"GET /login: {page.status_code}, no CSRF token")
        sent = web.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": found[1], "next": ""},
        )
        if sent.status_code != 303:
            raise RuntimeError(f"POST /login answered {sent.status_code}: {sent.text[:300]}")
        cookie = web.cookies.get("digipersona_session")
        if not cookie:
            raise RuntimeError("POST /login set no session cookie")
    with httpx.Client(base_url=base, timeout=60) as api:
        pair = api.post("/api/v1/auth/login", json={"email": email, "password": password})
        pair.raise_for_status()
        made = api.post(
            "/api/v1/tokens",
            json={"name": "api-bench", "scopes": ["write"]},
            headers={"Authorization": f"Bearer {pair.json()['access_token']}"},
        )
        made.raise_for_status()
        token = made.json()["token"]
    return cookie, token


def auth_headers(endpoint: Endpoint, cookie: str, token: str) -> dict[str, str]:
    if endpoint.auth == "bearer":
        return {"Authorization": f"Bearer {token}"}
    if endpoint.auth == "cookie":
        return {"Cookie": f"digipersona_session={cookie}"}
    return {}


def check(base: str, endpoint: Endpoint, headers: dict[str, str]) -> tuple[int, int, float]:
    """Two requests before the load, the first warming templates and caches: the second's
    status, body bytes (decoded) and milliseconds."""
    with httpx.Client(base_url=base, timeout=300, follow_redirects=False) as client:
        for attempt in range(2):
            started = time.perf_counter()
            if endpoint.body is not None:
                body = dict(endpoint.body, body=endpoint.body["body"] + f"check {attempt}")
                r = client.request(endpoint.method, endpoint.path, json=body, headers=headers)
            else:
                r = client.request(endpoint.method, endpoint.path, headers=headers)
            elapsed = (time.perf_counter() - started) * 1000
        return r.status_code, len(r.content), elapsed


# -- one backend ------------------------------------------------------------------------------------
@contextmanager
def databases(
    backend: str, n: int, cache: Path | None, work: Path
) -> Iterator[tuple[str, str, seeding.Seeded, bool]]:
    """(serve's database URL, the bare app's copy, the seed's facts, reused from the cache)."""
    if backend == "sqlite":
        template, meta, reused = seeding.sqlite_template(n, cache, work / "seed")
        (work / "serve").mkdir()
        run_db, bare_db = work / "serve" / "digipersona.db", work / "bare.db"
        shutil.copyfile(template, bare_db)
        if cache is None:
            shutil.move(template, run_db)  # a template of this run only: no third copy
        else:
            shutil.copyfile(template, run_db)
        yield f"sqlite:///{run_db}", f"sqlite:///{bare_db}", meta, reused
        return
    template_db, meta, reused = seeding.pg_template(n, cache, work / "seed")
    suffix = os.urandom(4).hex()
    run_name, bare_name = f"dp_apibench_{suffix}", f"dp_apibench_bare_{suffix}"
    try:
        seeding.pg_create(run_name, template_db)
        seeding.pg_create(bare_name, template_db)
        yield seeding.pg_url(run_name), seeding.pg_url(bare_name), meta, reused
    finally:
        seeding.pg_drop(run_name)
        seeding.pg_drop(bare_name)
        if cache is None:
            seeding.pg_drop(template_db)


@dataclass
class Options:
    posts: int
    seconds: float
    connections: int
    cache: Path | None
    only: list[str] | None  # endpoint names containing one of these
    keep: bool  # keep the work folder (serve's log, the databases) for a look afterwards


def run_backend(backend: str, opts: Options) -> Report:
    n, seconds, connections, cache = opts.posts, opts.seconds, opts.connections, opts.cache
    work = Path(tempfile.mkdtemp(prefix="dp-api-bench-"))
    procs: list[subprocess.Popen[Any]] = []
    try:
        seed_started = time.perf_counter()
        with databases(backend, n, cache, work) as (url, bare_url, meta, reused):
            seed_note = (
                f"reused seed from {meta.seeded_at[:16]}Z"
                if reused
                else f"seeded in {meta.seed_seconds:.0f} s"
            )
            print(
                f"[{backend}] {meta.posts:,} posts, {meta.publications:,} publications, "
                f"{meta.snapshots:,} metric snapshots, {meta.interactions:,} interactions "
                f"({seed_note}; ready in {time.perf_counter() - seed_started:.0f} s)",
                flush=True,
            )
            report = Report(backend, meta.posts, seed_note)
            bare_port, port = free_port(), free_port()
            bare_log, serve_log = work / "bare.log", work / "serve.log"
            env = seeding.product_env(
                work / "serve", url, meta.secret_key, meta.encryption_key,
                DIGIPERSONA_PORT=str(port),
            )  # fmt: skip
            with bare_log.open("wb") as out:
                bare = subprocess.Popen(
                    [sys.executable, __file__, "--serve-bare", bare_url, str(bare_port),
                     meta.some_post_id],
                    env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
            procs.append(bare)
            bare_base = f"http://127.0.0.1:{bare_port}"
            wait_http(f"{bare_base}/bare", bare, bare_log)

            started = time.perf_counter()
            with serve_log.open("wb") as out:
                serve = subprocess.Popen(
                    [seeding.digipersona_exe(), "serve"], env=env, cwd=work,
                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
            procs.append(serve)
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/healthz", serve, serve_log)
            report.startup_s = time.perf_counter() - started

            cookie, token = login(base, meta.email, meta.password)
            bare_script = lua_script(work, Endpoint("bare", "/bare", None))
            plan = [
                e
                for e in endpoints(meta.persona_ids[0])
                if not opts.only or any(part in e.name for part in opts.only)
            ]
            checks = {}
            for endpoint in plan:
                headers = auth_headers(endpoint, cookie, token)
                checks[endpoint.name] = check(base, endpoint, headers)
            check(bare_base, Endpoint("bare", "/bare", None), {})
            wait_idle([serve.pid, bare.pid])
            report.rss_before_mb = rss_mb(serve.pid)
            report.load_before = os.getloadavg()

            def settle() -> None:
                limit = min(IDLE_TIMEOUT, max(5.0, DRAIN_BUDGET - report.drain_s))
                waited = wait_idle([serve.pid, bare.pid], limit)
                report.drain_s += waited
                report.unsettled += waited >= limit

            def baseline() -> Run:
                settle()
                run = wrk(f"{bare_base}/bare", {}, bare_script, seconds, connections)
                report.baselines.append(run)
                return run

            for endpoint in plan:
                base_run = baseline()
                settle()
                run = wrk(
                    f"{base}{endpoint.path}",
                    auth_headers(endpoint, cookie, token),
                    lua_script(work, endpoint),
                    seconds,
                    connections,
                )
                status, size, alone = checks[endpoint.name]
                report.rows.append(Row(endpoint, run, base_run, size, status, alone))
                print(
                    f"  {endpoint.name}: {run.requests} answers in {run.seconds:.1f} s, "
                    f"p99 {run.cell(99)} ms, {run.errors} errors",
                    flush=True,
                )
            baseline()
            settle()
            report.rss_after_mb = rss_mb(serve.pid)
            report.rss_peak_mb = rss_mb(serve.pid, "VmHWM")
            report.load_after = os.getloadavg()
            for proc in procs:
                stop(proc)
            report.log_problems = log_problems(serve_log)
            return report
    finally:
        for proc in procs:
            stop(proc)
        if opts.keep:
            print(f"[{backend}] kept {work} (serve.log, bare.log, the SQLite files)")
        else:
            shutil.rmtree(work, ignore_errors=True)


def log_problems(path: Path) -> list[str]:
    """Lines of serve's log at WARNING or above (text format: time, level, logger, ...)."""
    levels = (" WARNING ", " ERROR ", " CRITICAL ")
    return [ln for ln in tail(path, 10**9).splitlines() if any(lv in ln[:40] for lv in levels)]


def log_kinds(lines: list[str], limit: int = 3) -> list[str]:
    """The first few distinct log problems, without time and request id, with their counts."""
    counts: dict[str, int] = {}
    for line in lines:
        kind = re.sub(r"\[[^\]]*\] ", "", line.split(" ", 2)[-1])[:160]
        counts[kind] = counts.get(kind, 0) + 1
    return [f"{kind} (x{n})" for kind, n in list(counts.items())[:limit]]


# -- output -------------------------------------------------------------------------------------------
def fmt_ms(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def table(report: Report) -> str:
    lines = [
        "| endpoint | alone ms | req/s | p50 ms | p95 ms | p99 ms | errors | size KB "
        "| bare req/s | bare p99 ms | p99 ratio | req/s ratio | p99 <= 5x, no errors |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for row in report.rows:
        r, b = row.run, row.baseline
        rps_ratio = r.rps / b.rps if b.rps else float("nan")
        errors = f"{r.errors}" + (f" ({r.socket_errors} socket)" if r.socket_errors else "")
        if row.status >= 300 or row.status < 200:
            errors += f" [check: {row.status}]"
        ratio = ("> " if r.beyond_run(99) else "") + f"{row.p99_ratio:.1f}x"
        lines.append(
            f"| {row.endpoint.name} | {fmt_ms(row.alone_ms)} | {fmt_rps(r.rps)} | {r.cell(50)} "
            f"| {r.cell(95)} | {r.cell(99)} | {errors} | {row.size / 1024:.1f} "
            f"| {fmt_rps(b.rps)} | {fmt_ms(b.p99)} | {ratio} | {rps_ratio:.2f}x "
            f"| {'met' if row.met else '**not met**'} |"
        )
    return "\n".join(lines)


def fmt_rps(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def summary(report: Report, connections: int, seconds: float) -> str:
    rows = {row.endpoint.name: row for row in report.rows}
    failing = [row.endpoint.name for row in report.rows if not row.met]
    bare = report.baselines
    load = " / ".join(f"{x:.2f}" for x in report.load_before)
    load_after = " / ".join(f"{x:.2f}" for x in report.load_after)
    yes = {True: "met", False: "**not met**"}
    targets = [
        f"- every endpoint p99 <= {TARGET_P99_RATIO:.0f}x bare and no errors: "
        f"{yes[not failing]}" + (f" (not: {', '.join(failing)})" if failing else "")
    ]
    if "/healthz" in rows:
        health = rows["/healthz"]
        ratio = health.run.rps / health.baseline.rps
        targets.append(
            f"- /healthz throughput >= {TARGET_HEALTHZ_THROUGHPUT}x bare: "
            f"{yes[ratio >= TARGET_HEALTHZ_THROUGHPUT]} ({ratio:.2f}x)"
        )
    if "/calendar (month page)" in rows:
        kb = rows["/calendar (month page)"].size / 1024
        targets.append(
            f"- calendar month HTML <= {TARGET_CALENDAR_KB} KB before compression: "
            f"{yes[kb <= TARGET_CALENDAR_KB]} ({kb:.0f} KB)"
        )
    return "\n".join(
        [
            *targets,
            f"- bare endpoint over {len(bare)} interleaved runs: {min(b.rps for b in bare):.0f}"
            f"-{max(b.rps for b in bare):.0f} req/s, p99 {fmt_ms(min(b.p99 for b in bare))}"
            f"-{fmt_ms(max(b.p99 for b in bare))} ms",
            f"- serve RSS: {report.rss_before_mb:.0f} MB before the load, "
            f"{report.rss_after_mb:.0f} MB after (peak {report.rss_peak_mb:.0f} MB)",
            f"- waited {report.drain_s:.0f} s in all for the servers to finish requests still "
            "running after a load, before the next one"
            + (
                f" ({report.unsettled} waits gave up (after {IDLE_TIMEOUT:.0f} s, or 5 s once "
                f"{DRAIN_BUDGET:.0f} s were spent): later figures include that work)"
                if report.unsettled
                else ""
            ),
            "- `> N`: at least that slow (the percentile lies beyond the run: connections got "
            "no answer at all); `alone`: one request with the server otherwise idle",
            f"- serve start-up to the first /healthz 200: {report.startup_s:.2f} s",
            f"- serve logged {len(report.log_problems)} warnings or errors"
            + "".join(f"; `{kind}`" for kind in log_kinds(report.log_problems)),
            f"- {connections} connections, {seconds:g} s per run, wrk 1 thread; load average "
            f"(1/5/15 min) {load} before, {load_after} after; {os.cpu_count()} CPUs",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--quick", action="store_true", help="2,000 posts, 2 s per endpoint")
    parser.add_argument("--posts", type=int, help="posts to seed (default 100,000; quick 2,000)")
    parser.add_argument("--duration", type=float, help="seconds per run (default 10; quick 2)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--cache",
        type=Path,
        help="keep the seeded template here (SQLite file; for PostgreSQL a template database "
        "named dp_api_bench_pg_*) and reuse it for 20 hours",
    )
    parser.add_argument(
        "--only", help="comma-separated parts of endpoint names to run, e.g. calendar,/healthz"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the work folder (logs, SQLite databases)"
    )
    parser.add_argument("--serve-bare", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(*args.serve_bare)
        return
    if shutil.which("wrk") is None:
        raise SystemExit(WRK_HINT)
    n = args.posts or (2_000 if args.quick else 100_000)
    seconds = args.duration or (2.0 if args.quick else 10.0)
    opts = Options(
        posts=n,
        seconds=seconds,
        connections=args.connections,
        cache=args.cache,
        only=args.only.split(",") if args.only else None,
        keep=args.keep,
    )
    help_runs = 1 if args.quick else 3
    help_s = help_seconds(help_runs)
    backends = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    out: list[str] = []
    for backend in backends:
        report = run_backend(backend, opts)
        out += [
            f"\n### {backend}: {report.posts:,} posts ({report.seeded})\n",
            table(report),
            "",
            summary(report, args.connections, seconds),
        ]
    out.append(f"- `digipersona --help`: {help_s:.2f} s (median of {help_runs})")
    print("\n".join(out), flush=True)


if __name__ == "__main__":
    main()
