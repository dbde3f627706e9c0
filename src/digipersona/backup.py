"""Backup and restore of an embedded installation (SQLite in the data directory).

A backup is one tar file: a consistent copy of the database taken with SQLite's online backup
API (one step, so it is the snapshot of a single read transaction while writers go on in WAL
mode), the secrets generated into the data directory (``secret_key``, ``encryption_keys``, the
Web Push key) and a manifest with each file's SHA-256. Restore checks every digest before it
writes anything, and writes only those known names into the data directory.

PostgreSQL installations are backed up with ``pg_dump``/``pg_restore`` (docs/backups.md).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from digipersona import __version__, db
from digipersona.config import Settings
from digipersona.exceptions import BadRequest, Conflict

DATABASE_NAME = "digipersona.db"
# The files of the data directory a restored installation needs besides the database.
SECRET_FILES = ("secret_key", "encryption_keys", "vapid_private.pem")
MANIFEST_NAME = "manifest.json"
FORMAT = "digipersona-backup/1"
# A manifest is a few hundred bytes; refuse to parse anything much larger.
MAX_MANIFEST_BYTES = 64 * 1024
# SQLite leaves these beside the database; a restore removes stale ones.
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass
class BackupResult:
    """What a backup holds and what the operator must know about it."""

    path: Path
    files: list[str]
    revision: str | None
    # Secrets given through the environment, not in the data directory: not in the backup.
    secrets_outside: list[str] = field(default_factory=list)


def backup(settings: Settings, target: Path) -> BackupResult:
    """Write a backup of the embedded installation to ``target`` (a new file, mode 0600)."""
    source = db.sqlite_file(settings.effective_database_url)
    if source is None:
        raise BadRequest(
            "digipersona backup copies an embedded (SQLite) installation; on PostgreSQL use "
            "pg_dump -Fc (see docs/backups.md)"
        )
    if not Path(source).is_file():
        raise BadRequest(f"No database at {source}: nothing to back up")
    if target.exists():
        raise Conflict(f"{target} exists already; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".digipersona-backup-") as tmp:
        copy = Path(tmp) / DATABASE_NAME
        revision = _snapshot(source, copy)
        members = {DATABASE_NAME: copy}
        for name in SECRET_FILES:
            path = settings.data_dir / name
            if path.is_file():
                members[name] = path
        manifest: dict[str, object] = {
            "format": FORMAT,
            "digipersona": __version__,
            "revision": revision,
            "files": {name: _sha256(path) for name, path in members.items()},
        }
        _write_archive(target, members, manifest)
    outside = [
        name
        for name in ("secret_key", "encryption_keys")
        if not (settings.data_dir / name).is_file()
    ]
    return BackupResult(target, sorted(members), revision, outside)


def restore(settings: Settings, source: Path, *, force: bool = False) -> dict[str, object]:
    """Put a backup's database and secrets into the data directory; returns its manifest.

    Refuses a data directory that holds anything unless ``force``; stop every digipersona
    process using it first.
    """
    if db.sqlite_file(settings.effective_database_url) != str(settings.data_dir / DATABASE_NAME):
        raise BadRequest(
            "digipersona restore fills the data directory of an embedded installation; "
            "unset DIGIPERSONA_DATABASE_URL (on PostgreSQL use pg_restore, docs/backups.md)"
        )
    data_dir = settings.data_dir
    if data_dir.exists() and any(data_dir.iterdir()) and not force:
        raise Conflict(
            f"{data_dir} is not empty; restore into an empty data directory, or pass --force "
            "to replace its database and secrets (stop digipersona first)"
        )
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(dir=data_dir, prefix=".restoring-") as tmp:
        staging = Path(tmp)
        manifest = _unpack_verified(source, staging)
        for suffix in SQLITE_SIDE_FILES:
            (data_dir / f"{DATABASE_NAME}{suffix}").unlink(missing_ok=True)
        for entry in staging.iterdir():
            os.replace(entry, data_dir / entry.name)
    return manifest


def _snapshot(source: str, copy: Path) -> str | None:
    """Copy the live database in one step (a consistent snapshot); its migration revision."""
    try:
        return db.sqlite_snapshot(source, copy)
    except sqlite3.Error as exc:
        raise BadRequest(f"Could not copy the database {source}: {exc}") from exc


def _write_archive(target: Path, members: dict[str, Path], manifest: dict[str, object]) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w:") as archive:
        blob = json.dumps(manifest, indent=2, sort_keys=True).encode()
        info = tarfile.TarInfo(MANIFEST_NAME)
        info.size, info.mode = len(blob), 0o600
        archive.addfile(info, io.BytesIO(blob))
        for name, path in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = path.stat().st_size, 0o600
            with path.open("rb") as data:
                archive.addfile(info, data)
        handle.flush()
        os.fsync(handle.fileno())


def _unpack_verified(source: Path, staging: Path) -> dict[str, object]:
    """Unpack a backup into ``staging`` (files 0600) and check every file against its digest;
    returns the manifest. Nothing outside ``staging`` is written."""
    try:
        archive = tarfile.open(source, "r:")  # noqa: SIM115 - closed below
    except (OSError, tarfile.TarError) as exc:
        raise BadRequest(f"{source} is not a digipersona backup: {exc}") from exc
    allowed = {DATABASE_NAME, *SECRET_FILES}
    digests: dict[str, str] = {}
    raw = b""
    with archive:
        try:
            for member in archive:
                known = member.name in allowed | {MANIFEST_NAME}
                if not member.isfile() or not known or member.name in digests:
                    raise BadRequest(f"Unexpected entry {member.name!r}: not a digipersona backup")
                extracted = archive.extractfile(member)
                assert extracted is not None
                if member.name == MANIFEST_NAME:
                    raw = extracted.read(MAX_MANIFEST_BYTES + 1)
                else:
                    digests[member.name] = _copy_private(extracted, staging / member.name)
        except (OSError, tarfile.TarError) as exc:
            raise BadRequest(f"{source} is damaged or not a digipersona backup: {exc}") from exc
    manifest = _parse_manifest(raw)
    listed = manifest["files"]
    assert isinstance(listed, dict)
    if set(listed) != set(digests) or DATABASE_NAME not in digests:
        raise BadRequest("The backup's files do not match its manifest: it is incomplete")
    for name, digest in digests.items():
        if digest != listed[name]:
            raise BadRequest(f"{name} in the backup is damaged (its checksum does not match)")
    return manifest


def _parse_manifest(raw: bytes) -> dict[str, object]:
    if not raw or len(raw) > MAX_MANIFEST_BYTES:
        raise BadRequest("The backup has no manifest: not a digipersona backup")
    try:
        manifest = json.loads(raw)
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BadRequest("Unknown backup format: not a digipersona backup")
    if not isinstance(manifest.get("files"), dict):
        raise BadRequest("The backup's manifest lists no files: it is incomplete")
    return manifest


def _copy_private(stream: IO[bytes], path: Path) -> str:
    """Copy a stream into a new file readable by its owner only; returns its SHA-256."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
