"""serve keeps glibc's heap to two arenas: freed memory is reused instead of piling up in one
arena per request thread (resident memory after a load: 800 MB with 40 arenas, 510 MB with 2)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

COUNT_HEAPS = """
import ctypes, sqlite3, sys, tempfile, threading
if sys.argv[1] == "limit":
    from digipersona.cli.server import limit_malloc_arenas
    limit_malloc_arenas()

def work():  # SQLite allocates without the GIL: threads really allocate at the same time
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (x)")
    db.executemany("INSERT INTO t VALUES (?)", [("y" * 5000,)] * 300)
    for _ in range(20):
        db.execute("SELECT group_concat(x) FROM t").fetchall()

threads = [threading.Thread(target=work) for _ in range(16)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
path = tempfile.mktemp()
out = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, out)
libc.fclose(out)
print(open(path).read().count("<heap nr="))
"""


def heaps(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    out = subprocess.run(
        [sys.executable, "-c", COUNT_HEAPS, mode], env=env, capture_output=True, text=True
    )
    if out.returncode != 0 or not out.stdout.strip().isdigit():
        pytest.skip(f"no glibc malloc_info here: {out.stderr.strip()[-200:]}")
    return int(out.stdout)


def test_serve_limits_the_heap_to_two_arenas() -> None:
    assert heaps("default") > 2  # the workload does make glibc open arenas per thread
    assert heaps("limit") <= 2
