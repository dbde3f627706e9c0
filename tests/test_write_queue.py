"""Queued write scopes (the dispatchers' rounds): on a SQLite file they wait in line on a lock
file, released when the unit of work ends, whether it committed or failed; elsewhere they are
plain write scopes."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from digipersona import db


def probe_factory(url: str) -> sessionmaker[Session]:
    engine = db.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS queue_probe (n INTEGER)"))
    return db.make_sessionmaker(engine)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'q.db'}"


@pytest.fixture
def factory(url: str) -> sessionmaker[Session]:
    return probe_factory(url)


def test_a_queued_writer_waits_for_the_one_holding_its_turn(
    url: str, factory: sessionmaker[Session]
) -> None:
    holding, release, entered = threading.Event(), threading.Event(), threading.Event()
    order: list[str] = []

    def first() -> None:
        with db.write_scope(factory) as session:
            session.execute(text("INSERT INTO queue_probe (n) VALUES (1)"))
            holding.set()
            release.wait(10)
            order.append("first commits")

    def second() -> None:
        holding.wait(10)
        with db.write_scope(factory) as session:
            entered.set()
            order.append("second enters")
            session.execute(text("INSERT INTO queue_probe (n) VALUES (2)"))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert holding.wait(10)
    assert not entered.wait(0.3)  # in line while the first holds its turn
    release.set()
    for thread in threads:
        thread.join(10)
    assert order == ["first commits", "second enters"]
    with factory() as session:
        assert session.execute(text("SELECT count(*) FROM queue_probe")).scalar_one() == 2
    assert Path(url.removeprefix("sqlite:///") + "-writers.lock").exists()


def test_a_failed_unit_of_work_gives_its_turn_back(factory: sessionmaker[Session]) -> None:
    def failing() -> None:
        with db.write_scope(factory) as session:
            session.execute(text("INSERT INTO queue_probe (n) VALUES (1)"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        failing()
    with db.write_scope(factory) as session:  # would wait forever if still held
        assert session.execute(text("SELECT count(*) FROM queue_probe")).scalar_one() == 0


HOLDER = """
import sys, time
from digipersona import db
factory = db.make_sessionmaker(db.make_engine(sys.argv[1]))
with db.write_scope(factory):
    print("holding", flush=True)
    sys.stdin.readline()
"""


def test_the_turn_is_shared_between_processes(url: str, factory: sessionmaker[Session]) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == b"holding"
    done = threading.Event()

    def queued() -> None:
        with db.write_scope(factory):
            done.set()

    thread = threading.Thread(target=queued)
    thread.start()
    assert not done.wait(0.3)  # the other process has the turn
    holder.stdin.write(b"\n")
    holder.stdin.close()
    holder.wait(10)
    assert done.wait(10)
    thread.join(10)


def test_on_postgresql_a_queued_scope_is_a_plain_write_scope(pg_database: str) -> None:
    factory = probe_factory(pg_database)
    try:
        with db.write_scope(factory) as session:
            session.execute(text("INSERT INTO queue_probe (n) VALUES (1)"))
        with factory() as session:
            assert session.execute(text("SELECT count(*) FROM queue_probe")).scalar_one() == 1
    finally:
        with factory() as session:
            session.execute(text("DROP TABLE queue_probe"))
            session.commit()


def test_scopes_on_two_databases_nest_in_one_thread(tmp_path: Path) -> None:
    first = probe_factory(f"sqlite:///{tmp_path / 'a.db'}")
    second = probe_factory(f"sqlite:///{tmp_path / 'b.db'}")
    with db.write_scope(first) as outer:
        outer.execute(text("INSERT INTO queue_probe (n) VALUES (1)"))
        with db.write_scope(second) as inner:  # its own line: taken, not skipped or deadlocked
            inner.execute(text("INSERT INTO queue_probe (n) VALUES (2)"))
    for factory, value in ((first, 1), (second, 2)):
        with factory() as session:
            assert session.execute(text("SELECT n FROM queue_probe")).scalar_one() == value
    assert (tmp_path / "b.db-writers.lock").exists()


def test_writers_of_one_process_take_their_turns_in_arrival_order(
    url: str, factory: sessionmaker[Session]
) -> None:
    """First come, first served: the lock file alone wakes any waiter, not the first."""
    line = db._line_for(url.removeprefix("sqlite:///") + "-writers.lock")
    holding, release = threading.Event(), threading.Event()
    order: list[int] = []

    def holder() -> None:
        with db.write_scope(factory):
            holding.set()
            release.wait(10)

    def writer(n: int) -> None:
        with db.write_scope(factory) as session:
            session.execute(text("INSERT INTO queue_probe (n) VALUES (:n)"), {"n": n})
            order.append(n)

    threads = [threading.Thread(target=holder)]
    threads[0].start()
    assert holding.wait(10)
    for n in range(8):
        thread = threading.Thread(target=writer, args=(n,))
        threads.append(thread)
        thread.start()
        # The next one arrives only once this one is in line.
        wait_until(lambda n=n: line.waiting() == n + 1)
    release.set()
    for thread in threads:
        thread.join(10)
    assert order == list(range(8))
    with factory() as session:
        rows = session.execute(text("SELECT n FROM queue_probe ORDER BY rowid")).scalars().all()
    assert rows == list(range(8))


class Interrupted(Exception):
    pass


def test_a_writer_that_gives_up_waiting_leaves_the_line(
    url: str, factory: sessionmaker[Session]
) -> None:
    """Ctrl-C on a CLI command waiting for its turn: the line goes on without it."""
    line = db._line_for(url.removeprefix("sqlite:///") + "-writers.lock")
    holding, release = threading.Event(), threading.Event()

    def holder() -> None:
        with db.write_scope(factory):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    assert holding.wait(10)

    def interrupt(_signum: int, _frame: Any) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with pytest.raises(Interrupted):
            line.enter()  # waits (the holder has the turn) until the signal interrupts it
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert line.waiting() == 0
    release.set()
    thread.join(10)
    with db.write_scope(factory):  # the turn is free, not handed to the writer that left
        pass


def wait_until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)
