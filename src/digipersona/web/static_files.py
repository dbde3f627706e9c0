"""Static files with a content hash in their URL, cached by browsers for a year.

``static_url("app.css")`` gives ``/static/app.css?v=<hash of the file>``; templates use it for
every file. A request carrying the current hash is answered ``Cache-Control: public,
max-age=31536000, immutable``: a changed file gets a new URL, so a cached copy is never stale.
Without it (an old page, a hand-typed URL) the answer must be revalidated (``no-cache``).
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


@cache
def static_versions() -> dict[str, str]:
    """The content hash of every file under ``static/``, by its path there (hashed once)."""
    versions = {}
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            versions[path.relative_to(STATIC_DIR).as_posix()] = digest
    return versions


def static_url(name: str) -> str:
    """The fingerprinted URL of a static file; a name that is not there is a template bug."""
    version = static_versions().get(name)
    if version is None:
        raise LookupError(f"there is no static file {name!r} in {STATIC_DIR}")
    return f"/static/{name}?v={version}"


class FingerprintedStaticFiles(StaticFiles):
    """``StaticFiles`` that lets browsers keep a file for good when its URL names its hash."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        name = Path(full_path).resolve().relative_to(STATIC_DIR.resolve()).as_posix()
        asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [""])[0]
        current = static_versions().get(name)
        response.headers["Cache-Control"] = IMMUTABLE if asked and asked == current else REVALIDATE
        return response
