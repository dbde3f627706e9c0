"""A virtualenv with the project's plain install (no dev extras), cached by its dependencies.

The first test session after a change of ``pyproject.toml``'s runtime dependencies builds it (a
few minutes on a busy machine); every
later one finds it ready. Tests run the current checkout's code from it (``PYTHONPATH``), so only
the dependencies come from the cache.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(
    os.environ.get(
        "DIGIPERSONA_PLAIN_VENV_CACHE", Path.home() / ".cache" / "digipersona" / "plain-venv"
    )
)


def plain_venv() -> Path:
    """The cached venv's directory, built first if this pyproject has none yet."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = json.dumps([project["requires-python"], sorted(project["dependencies"])])
    key = hashlib.sha256(wanted.encode()).hexdigest()[:16]
    venv = CACHE / key
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test session may be building the same one
        if not (venv / ".ready").exists():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run(
                [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(ROOT)],
                check=True,
                timeout=900,
            )
            (venv / ".ready").touch()
    return venv
