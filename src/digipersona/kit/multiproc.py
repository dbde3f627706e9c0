"""Where the processes' metric files go: set before prometheus-client is first imported.

prometheus-client chooses between in-memory values and multiprocess files once, when it is
imported, from ``PROMETHEUS_MULTIPROC_DIR``. This module imports nothing of it, so the CLI can
call ``prepare`` before a command's modules load.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare(command: str) -> str | None:
    """The metric files' directory for ``command``'s processes (None: in memory).

    ``serve`` always counts in files, so its publishing helper processes show on its scrape: in
    the operator's directory if given, else in a private one removed when serve exits. Other
    commands use the operator's directory if given (a worker or scheduler without one counts
    only in memory, where no scrape sees it).
    """
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        os.makedirs(given, exist_ok=True)
        return given
    if command != "serve":
        return None
    try:
        private = tempfile.mkdtemp(prefix="digipersona-metrics-")
    except OSError:  # no writable temporary directory: count in memory, helpers unseen
        return None
    os.environ[MULTIPROC_ENV] = private
    atexit.register(shutil.rmtree, private, ignore_errors=True)
    return private
