"""Publishing engine benchmark: throughput, lateness and duplicates, as ratios within one run.

    .venv/bin/python benchmarks/publish_bench.py            # everything (several minutes)
    .venv/bin/python benchmarks/publish_bench.py --quick    # smaller N, for a smoke run

Scenarios (issue 5):
  ceiling   plain Celery (Redis broker, prefork concurrency 2) running N no-op tasks, all
            enqueued at once once the worker is up: tasks/s and lateness (start - the instant
            enqueueing began)
  embedded  N publications due at the same instant across M connections, embedded dispatcher on
            SQLite with the default settings (8 worker threads, batches of 200), loopback fake
            platform (separate process) with zero latency. The engine
            processes start first (like a running `digipersona serve`); once they are up, all
            rows are made due at one instant a moment ahead, so process start-up is not counted.
            The fake's provider plugin sends with a lean keep-alive http.client connection, so
            what is measured is the engine, not an HTTP library
  embedded-2p  the same with DIGIPERSONA_DISPATCH_PROCESSES=2: the dispatcher plus one
            publishing helper process, as `serve` starts them (two GILs on two cores)
  embedded-httpx  the same, the plugin sending through httpx like the real platform clients
            (httpx costs about 0.4 ms of CPU per request in Python: with one GIL, that is the
            figure for real providers at zero latency)
  scaleout  the same with 2 Celery worker processes, a scheduler, Redis and PostgreSQL
            The embedded scenarios also time a small write transaction every 50 ms from another
            process during the burst (a user saving a draft meanwhile): p50 and max wait
  latency   1,000 due at once with 300 ms platform latency (embedded): all within 30 s?
  single    one post due at an exact second: how late is it sent?
  cycle     the embedded dispatcher's transaction alone (record nothing, claim and prepare a
            batch) over N due rows on SQLite, nothing sent: engine milliseconds per publication
Throughput is publications / (last published - due instant); the ceiling's is tasks / (last
start - first start). Lateness counts from the due instant (for the ceiling: from the moment
enqueueing began). Figures are medians of --repeat runs. Nothing here asserts: it prints.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, select, text, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digipersona import db  # noqa: E402
from digipersona.kit.crypto import TokenCipher  # noqa: E402
from digipersona.kit.time import ensure_utc, utcnow  # noqa: E402
from digipersona.models import (  # noqa: E402
    Base,
    Connection,
    Heartbeat,
    Membership,
    Persona,
    Post,
    Publication,
    User,
    Workspace,
)

PG_ADMIN = os.environ.get(
    "DIGIPERSONA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS = os.environ.get("DIGIPERSONA_BENCH_REDIS", "redis://127.0.0.1:6379/13")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def start_platform(latency: float = 0.0) -> tuple[subprocess.Popen[bytes], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.counting_platform"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        start_new_session=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().decode().strip()
    for _ in range(100):  # wait for uvicorn to listen
        try:
            httpx.post(f"{url}/control", json={"latency": latency, "reset": True})
            break
        except httpx.TransportError:
            time.sleep(0.05)
    return proc, url


def stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def seed(url: str, key: str, n: int, connections: int) -> None:
    """N publications across M connections, not due yet (``make_due`` sets the instant)."""
    engine = db.make_engine(url)
    factory = db.make_sessionmaker(engine)
    cipher = TokenCipher([key])
    at = utcnow() + timedelta(days=1)
    with db.session_scope(factory) as s:
        ws = Workspace(name="Bench")
        user = User(email=f"{uuid.uuid4().hex[:8]}@bench", password_hash="x")
        s.add_all([ws, user])
        s.flush()
        s.add(Membership(workspace_id=ws.id, user_id=user.id, role="owner"))
        persona = Persona(workspace_id=ws.id, name="Bench")
        s.add(persona)
        s.flush()
        conns = []
        for i in range(connections):
            c = Connection(
                workspace_id=ws.id,
                persona_id=persona.id,
                platform="counting",
                account_id=f"c{i}",
                access_token_enc=cipher.encrypt("t"),
            )
            s.add(c)
            conns.append(c)
        s.flush()
        posts = [
            Post(
                workspace_id=ws.id,
                persona_id=persona.id,
                body=f"p{i}",
                status="scheduled",
                platforms=["counting"],
            )
            for i in range(n)
        ]
        s.add_all(posts)
        s.flush()
        s.add_all(
            [
                Publication(
                    workspace_id=ws.id,
                    post_id=post.id,
                    connection_id=conns[i % connections].id,
                    platform="counting",
                    scheduled_at=at,
                    next_attempt_at=at,
                    idempotency_key=uuid.uuid4().hex,
                )
                for i, post in enumerate(posts)
            ]
        )
    engine.dispose()


def make_due(url: str, lead: float = 1.0) -> Any:
    """Make every publication due at one instant ``lead`` seconds from now; returns it."""
    engine = db.make_engine(url)
    at = utcnow() + timedelta(seconds=lead)
    with db.session_scope(db.make_sessionmaker(engine)) as s:
        s.execute(update(Publication).values(scheduled_at=at, next_attempt_at=at))
    engine.dispose()
    return at


def wait_heartbeat(
    url: str, procs: list[subprocess.Popen[Any]], timeout: float = 120, count: int = 1
) -> None:
    """Wait until ``count`` dispatchers or schedulers have written a heartbeat (they run)."""
    engine = db.make_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in procs):
                raise RuntimeError("an engine process exited during start-up")
            with engine.connect() as conn:
                if (
                    conn.execute(select(func.count()).select_from(Heartbeat)).scalar() or 0
                ) >= count:
                    return
            time.sleep(0.1)
    finally:
        engine.dispose()
    raise TimeoutError("no heartbeat from the engine")


def results(url: str, platform_url: str, started: float) -> dict[str, Any]:
    engine = db.make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(Publication.scheduled_at, Publication.published_at, Publication.state)
        ).all()
    engine.dispose()
    published = [r for r in rows if r.state == "published"]
    lateness = [
        (ensure_utc(r.published_at) - ensure_utc(r.scheduled_at)).total_seconds() for r in published
    ]
    last = max(ensure_utc(r.published_at) for r in published) if published else None
    first_due = min(ensure_utc(r.scheduled_at) for r in rows)
    span = (last - first_due).total_seconds() if last else float("nan")
    stats = httpx.get(f"{platform_url}/stats", timeout=30).json()
    return {
        "n": len(rows),
        "published": len(published),
        "per_second": len(published) / span if span and span > 0 else float("nan"),
        "p50": percentile(lateness, 0.5),
        "p99": percentile(lateness, 0.99),
        "max": max(lateness) if lateness else float("nan"),
        "duplicates": stats["duplicates"],
        "platform_posts": stats["posts"],
        "wall": time.monotonic() - started,
    }


class WriteProbe:
    """A small write transaction every 50 ms from another process while the engine works
    (like a user saving a draft during the burst): how long does the database make it wait?"""

    def __init__(self, url: str, due: Any) -> None:
        self._engine = db.make_engine(url)
        self._factory = db.make_sessionmaker(self._engine)
        with self._engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS bench_probe (n INTEGER)"))
        self._due = ensure_utc(due)
        self._stop = threading.Event()
        self.waits: list[float] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self._stop.wait(max(0.0, (self._due - utcnow()).total_seconds()))
        while not self._stop.is_set():
            started = time.perf_counter()
            with db.write_scope(self._factory) as session:
                session.execute(text("INSERT INTO bench_probe (n) VALUES (1)"))
            self.waits.append(time.perf_counter() - started)
            self._stop.wait(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._engine.dispose()

    def figures(self) -> dict[str, float]:
        return {
            "write_p50_ms": 1000 * percentile(self.waits, 0.5),
            "write_max_ms": 1000 * max(self.waits, default=float("nan")),
        }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live children so far (Linux /proc), to
    report CPU per publication."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                total += cpu_seconds(int(child))
            except FileNotFoundError:
                continue
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return total + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_done(url: str, n: int, timeout: float) -> None:
    engine = db.make_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                done = conn.execute(
                    select(func.count()).where(
                        Publication.state.in_(["published", "failed", "missed"])
                    )
                ).scalar()
            if done >= n:
                return
            time.sleep(0.2)
    finally:
        engine.dispose()
    raise TimeoutError(f"only {done}/{n} finished")


def bench_env(
    tmp: Path, key: str, platform_url: str, plugin: str = "CountingProvider", **extra: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGIPERSONA_")}
    env.update(
        DIGIPERSONA_DATA_DIR=str(tmp),
        DIGIPERSONA_SECRET_KEY="b" * 48,
        DIGIPERSONA_ENCRYPTION_KEYS=key,
        DIGIPERSONA_PROVIDER_PLUGINS=f"tests.fakes.counting_platform:{plugin}",
        DIGIPERSONA_COUNTING_URL=platform_url,
        DIGIPERSONA_LOG_LEVEL="WARNING",
        DIGIPERSONA_QUOTA_WEBHOOK_POSTS_PER_MINUTE="0",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def run_embedded(
    n: int,
    connections: int,
    latency: float,
    threads: int,
    plugin: str = "CountingProvider",
    processes: int = 1,
) -> dict[str, Any]:
    """The embedded dispatcher in its own process (like `digipersona serve`), on SQLite; with
    ``processes`` > 1, plus that many - 1 publishing helper processes (its children)."""
    tmp = Path(tempfile.mkdtemp(prefix="dp-bench-"))
    key = Fernet.generate_key().decode()
    url = f"sqlite:///{tmp / 'bench.db'}"
    db.upgrade(url)
    platform, platform_url = start_platform(latency)
    seed(url, key, n, connections)
    env = bench_env(
        tmp,
        key,
        platform_url,
        plugin,
        DIGIPERSONA_DATABASE_URL=url,
        DIGIPERSONA_WORKER_THREADS=str(threads),
        DIGIPERSONA_DISPATCH_POLL_SECONDS="0.05",
        DIGIPERSONA_DISPATCH_PROCESSES=str(processes),
    )
    # What `digipersona serve` starts in embedded mode, without the web app.
    code = (
        "import time, threading\n"
        "from digipersona.config import get_settings\n"
        "from digipersona.worker.runtime import build_runtime\n"
        "from digipersona.worker.embedded import Dispatcher\n"
        "from digipersona.worker.processes import HelperProcesses\n"
        "s = get_settings(); rt = build_runtime(s)\n"
        "d = Dispatcher(rt.engine, threads=s.worker_threads, batch=s.dispatch_batch, poll_seconds=s.dispatch_poll_seconds)\n"
        "d.start()\n"
        "if s.dispatch_processes > 1: HelperProcesses(s, s.dispatch_processes - 1).start()\n"
        "threading.Event().wait()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT, start_new_session=True)
    try:
        wait_heartbeat(url, [proc], count=processes)
        cpu_before = cpu_seconds(proc.pid)
        platform_before = cpu_seconds(platform.pid)
        at = make_due(url)
        started = time.monotonic()
        probe = WriteProbe(url, at)
        try:
            wait_done(url, n, 600)
        finally:
            probe.stop()
        cpu = cpu_seconds(proc.pid) - cpu_before
        platform_cpu = cpu_seconds(platform.pid) - platform_before
        return {
            **results(url, platform_url, started),
            "engine_cpu_ms": 1000 * cpu / n,
            "platform_cpu_ms": 1000 * platform_cpu / n,
            **probe.figures(),
        }
    finally:
        stop(proc)
        stop(platform)
        shutil.rmtree(tmp, ignore_errors=True)


def fresh_pg() -> tuple[str, Any]:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"dp_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    engine = db.make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def run_scaleout(n: int, connections: int, workers: int) -> dict[str, Any]:
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    tmp = Path(tempfile.mkdtemp(prefix="dp-bench-"))
    key = Fernet.generate_key().decode()
    url, drop = fresh_pg()
    platform, platform_url = start_platform(0.0)
    seed(url, key, n, connections)
    env = bench_env(
        tmp, key, platform_url, DIGIPERSONA_DATABASE_URL=url, DIGIPERSONA_BROKER_URL=REDIS
    )
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "digipersona",
                "worker",
                "--concurrency",
                "1",
                "--loglevel",
                "WARNING",
            ],
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        for _ in range(workers)
    ]
    procs.append(
        subprocess.Popen(
            [sys.executable, "-m", "digipersona", "scheduler"],
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
    )
    try:
        wait_heartbeat(url, procs)
        wait_workers(workers)
        make_due(url)
        started = time.monotonic()
        wait_done(url, n, 900)
        return results(url, platform_url, started)
    finally:
        for proc in procs:
            stop(proc)
        stop(platform)
        drop()
        shutil.rmtree(tmp, ignore_errors=True)


def wait_workers(count: int, timeout: float = 120) -> None:
    """Wait until ``count`` Celery workers answer a ping on the bench broker."""
    from celery import Celery

    app = Celery("bench-ping", broker=REDIS)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if len(app.control.ping(timeout=1.0) or []) >= count:
                return
    finally:
        app.close()
    raise TimeoutError(f"fewer than {count} Celery workers answered")


CEILING_APP = """
import time
from celery import Celery
app = Celery("ceiling", broker="{broker}")
app.conf.update(task_ignore_result=True, worker_prefetch_multiplier=4, task_serializer="json")
import redis
r = redis.Redis.from_url("{broker}")

@app.task(name="noop")
def noop(enqueued):
    r.rpush("ceiling:lat", time.time() - enqueued)
"""


def run_ceiling(n: int) -> dict[str, Any]:
    import redis

    client = redis.Redis.from_url(REDIS)
    client.flushdb()
    tmp = Path(tempfile.mkdtemp(prefix="dp-ceiling-"))
    (tmp / "ceiling_app.py").write_text(CEILING_APP.format(broker=REDIS))
    sys.path.insert(0, str(tmp))
    import ceiling_app  # type: ignore[import-not-found]

    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ceiling_app",
            "worker",
            "--concurrency",
            "2",
            "--pool",
            "prefork",
            "--loglevel",
            "WARNING",
        ],
        cwd=tmp,
        env={**os.environ, "PYTHONPATH": str(tmp)},
        start_new_session=True,
    )
    try:
        # Like the engine runs: the worker is up before the tasks become due (all at t0).
        wait_workers(1)
        t0 = time.time()
        for _ in range(n):
            ceiling_app.noop.apply_async(args=[t0])
        enqueue_s = time.time() - t0
        started = time.time()
        while client.llen("ceiling:lat") < n and time.time() - started < 600:
            time.sleep(0.1)
        lat = [float(x) for x in client.lrange("ceiling:lat", 0, -1)]
        # Lateness counts from the moment all were due (t0), like the publications.
        span = max(lat) if lat else float("nan")
        return {
            "n": n,
            "per_second": n / (span - min(lat)) if lat else float("nan"),
            "p50": percentile(lat, 0.5),
            "p99": percentile(lat, 0.99),
            "max": span,
            "enqueue_s": enqueue_s,
        }
    finally:
        stop(worker)
        shutil.rmtree(tmp, ignore_errors=True)


def run_cycle(n: int, connections: int) -> dict[str, Any]:
    """Time ``engine.cycle`` claiming and preparing N due rows, batch by batch, in one process."""
    tmp = Path(tempfile.mkdtemp(prefix="dp-bench-"))
    key = Fernet.generate_key().decode()
    url = f"sqlite:///{tmp / 'bench.db'}"
    try:
        db.upgrade(url)
        seed(url, key, n, connections)
        make_due(url, lead=0.0)
        env = bench_env(tmp, key, "http://127.0.0.1:9", DIGIPERSONA_DATABASE_URL=url)
        code = (
            "import time\n"
            "from digipersona.config import get_settings\n"
            "from digipersona.worker.runtime import build_runtime\n"
            "from digipersona.publishing.engine import cycle\n"
            "s = get_settings(); rt = build_runtime(s); done = 0\n"
            "t = time.perf_counter()\n"
            "while True:\n"
            "    _r, prepared, _s = cycle(rt.engine, 'bench', [], s.dispatch_batch)\n"
            "    if not prepared: break\n"
            "    done += len(prepared)\n"
            "print(done, time.perf_counter() - t)\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
        )
        if out.returncode != 0:
            raise RuntimeError(out.stderr)
        done, seconds = out.stdout.split()
        return {"n": int(done), "ms_per_publication": 1000 * float(seconds) / int(done)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def show(name: str, r: dict[str, Any]) -> None:
    print(
        f"{name:<28} n={r['n']:>6}  {r['per_second']:>8.1f}/s  lateness p50={r['p50']:.3f}s "
        f"p99={r['p99']:.3f}s max={r['max']:.3f}s"
        + (
            f"  duplicates={r['duplicates']} platform_posts={r['platform_posts']}"
            if "duplicates" in r
            else ""
        )
        + (
            f"  engine CPU {r['engine_cpu_ms']:.2f} ms/publication (fake platform "
            f"{r['platform_cpu_ms']:.2f})"
            if "engine_cpu_ms" in r and r["n"] >= 100  # idle housekeeping dominates tiny runs
            else ""
        )
        + (
            f"  a write meanwhile waits p50 {r['write_p50_ms']:.0f} ms, max "
            f"{r['write_max_ms']:.0f} ms"
            if "write_max_ms" in r and r["n"] >= 100
            else ""
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small N for a smoke run")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--only",
        default="ceiling,embedded,embedded-2p,embedded-httpx,scaleout,latency,single,cycle",
    )
    args = parser.parse_args()
    n = 2000 if args.quick else 10000
    only = set(args.only.split(","))
    out: dict[str, dict[str, Any]] = {}

    def med(runs: list[dict[str, Any]]) -> dict[str, Any]:
        keys = [k for k in runs[0] if isinstance(runs[0][k], (int, float))]
        return {k: statistics.median(r[k] for r in runs) for k in keys}

    if "ceiling" in only:
        out["ceiling"] = med([run_ceiling(n) for _ in range(args.repeat)])
        show("celery no-op ceiling", out["ceiling"])
    if "embedded" in only:
        out["embedded"] = med([run_embedded(n, 50, 0.0, threads=8) for _ in range(args.repeat)])
        show("embedded sqlite, 0 ms", out["embedded"])
    if "embedded-2p" in only:
        out["embedded-2p"] = med(
            [run_embedded(n, 50, 0.0, threads=8, processes=2) for _ in range(args.repeat)]
        )
        show("embedded, 2 processes", out["embedded-2p"])
    if "embedded-httpx" in only:
        out["embedded-httpx"] = med(
            [
                run_embedded(n, 50, 0.0, threads=8, plugin="CountingHttpxProvider")
                for _ in range(args.repeat)
            ]
        )
        show("embedded, httpx plugin", out["embedded-httpx"])
    if "scaleout" in only:
        out["scaleout"] = med(
            [
                run_scaleout(n // 2 if not args.quick else n, 50, workers=2)
                for _ in range(args.repeat)
            ]
        )
        show("celery+redis+pg, 2 workers", out["scaleout"])
    if "latency" in only:
        out["latency"] = med([run_embedded(1000, 50, 0.3, threads=64) for _ in range(args.repeat)])
        show("embedded, 300 ms platform", out["latency"])
    if "single" in only:
        out["single"] = med(
            [run_embedded(1, 1, 0.0, threads=4) for _ in range(max(3, args.repeat))]
        )
        show("single post due at :00", out["single"])
    if "cycle" in only:
        out["cycle"] = med([run_cycle(n, 50) for _ in range(max(3, args.repeat))])
        print(
            f"{'dispatcher cycle, sqlite':<28} n={out['cycle']['n']:>6.0f}  "
            f"{out['cycle']['ms_per_publication']:.3f} ms/publication claimed and prepared",
            flush=True,
        )
    if "ceiling" in out:
        c = out["ceiling"]
        print("\nratios to the no-op Celery ceiling (same run):")
        for name in ("embedded", "embedded-2p", "embedded-httpx", "scaleout"):
            if name in out:
                r = out[name]
                print(
                    f"  {name:<14} throughput {r['per_second'] / c['per_second']:.2f}x (target "
                    f"{'>= 0.5' if name == 'scaleout' else '>= 1.0'}), p99 lateness "
                    f"{r['p99'] / c['p99']:.2f}x"
                    + ("" if name == "scaleout" else " (target <= 0.5)")
                )
    if "latency" in out:
        print(
            f"  300 ms latency: 1000 published in {out['latency']['max']:.1f}s after due (target <= 30 s)"
        )
    if "single" in out:
        print(f"  single post lateness {out['single']['max']:.3f}s (target <= 1 s)")


if __name__ == "__main__":
    main()
