"""``backup``/``restore`` refuse what they cannot do safely: a damaged or foreign archive, a
PostgreSQL installation, an existing target, a non-empty data dir; nothing is half-written."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from digipersona import backup, db
from digipersona.config import Settings
from digipersona.exceptions import BadRequest, Conflict


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    settings = Settings(data_dir=tmp_path / "source").ensure_secrets()
    db.upgrade(settings.effective_database_url)
    target = tmp_path / "b.tar"
    result = backup.backup(settings, target)
    assert result.files == ["digipersona.db", "encryption_keys", "secret_key"]
    assert result.revision == db.head_revision()
    assert result.secrets_outside == []
    return target


def rewrite(source: Path, target: Path, change: dict[str, bytes | None]) -> Path:
    """A copy of the archive with members replaced (bytes) or dropped (None)."""
    with tarfile.open(source) as old, tarfile.open(target, "w") as new:
        for member in old.getmembers():
            blob = old.extractfile(member).read()  # type: ignore[union-attr]
            if member.name in change:
                if change[member.name] is None:
                    continue
                blob = change[member.name]  # type: ignore[assignment]
            info = tarfile.TarInfo(member.name)
            info.size = len(blob)
            new.addfile(info, io.BytesIO(blob))
    return target


def test_restore_refuses_damaged_or_foreign_archives_and_writes_nothing(
    archive: Path, tmp_path: Path
) -> None:
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    cases = {
        "damaged": ({"secret_key": b"someone else's key\n"}, "damaged"),
        "incomplete": ({"encryption_keys": None}, "incomplete"),
        "foreign": ({"manifest.json": json.dumps({**manifest, "format": "x"}).encode()}, "format"),
        "no manifest": ({"manifest.json": None}, "no manifest"),
    }
    for name, (change, message) in cases.items():
        broken = rewrite(archive, tmp_path / f"{name}.tar", change)
        target = tmp_path / f"restore-{name}"
        with pytest.raises(BadRequest, match=message):
            backup.restore(Settings(data_dir=target), broken)
        assert not target.exists() or not any(target.iterdir()), name
    outside = tmp_path / "evil.tar"
    with tarfile.open(outside, "w") as tar:
        info = tarfile.TarInfo("../secret_key")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(BadRequest, match="Unexpected entry"):
        backup.restore(Settings(data_dir=tmp_path / "evil"), outside)
    not_tar = tmp_path / "notes.txt"
    not_tar.write_text("hello")
    with pytest.raises(BadRequest, match="not a digipersona backup"):
        backup.restore(Settings(data_dir=tmp_path / "plain"), not_tar)


def test_restore_into_a_non_empty_dir_needs_force(archive: Path, tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "secret_key").write_text("mine\n")
    with pytest.raises(Conflict, match="--force"):
        backup.restore(Settings(data_dir=target), archive)
    assert (target / "secret_key").read_text() == "mine\n"
    (target / "digipersona.db-wal").write_bytes(b"stale")
    backup.restore(Settings(data_dir=target), archive, force=True)
    assert (target / "secret_key").read_bytes() == (
        archive.parent / "source" / "secret_key"
    ).read_bytes()
    assert not (target / "digipersona.db-wal").exists()
    assert not [p for p in target.iterdir() if p.name.startswith(".")]


def test_backup_refuses_postgresql_and_an_existing_file(archive: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "pg", database_url="postgresql+psycopg://u@127.0.0.1/x")
    with pytest.raises(BadRequest, match="pg_dump"):
        backup.backup(settings, tmp_path / "pg.tar")
    with pytest.raises(BadRequest, match="pg_restore"):
        backup.restore(settings, archive)
    source = Settings(data_dir=tmp_path / "source").ensure_secrets()
    with pytest.raises(Conflict, match="exists already"):
        backup.backup(source, archive)


def test_backup_names_secrets_that_come_from_the_environment(tmp_path: Path) -> None:
    from cryptography.fernet import Fernet

    settings = Settings(
        data_dir=tmp_path, encryption_keys=Fernet.generate_key().decode()
    ).ensure_secrets()
    db.upgrade(settings.effective_database_url)
    result = backup.backup(settings, tmp_path / "out" / "b.tar")
    assert result.secrets_outside == ["encryption_keys"]


def test_backup_of_a_missing_installation_creates_nothing(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from digipersona.cli.main import app

    data_dir = tmp_path / "typo"
    result = CliRunner().invoke(
        app, ["backup", str(tmp_path / "b.tar")], env={"DIGIPERSONA_DATA_DIR": str(data_dir)}
    )
    assert result.exit_code == 1
    assert "No database" in result.output
    assert not data_dir.exists() and not (tmp_path / "b.tar").exists()
