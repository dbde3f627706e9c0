from __future__ import annotations

import logging
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from digipersona.config import ConfigError, Settings


def test_embedded_generates_secrets_once_with_private_files(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).ensure_secrets()
    second = Settings(data_dir=tmp_path).ensure_secrets()
    assert first.secret_key_value() == second.secret_key_value()
    assert first.encryption_key_list() == second.encryption_key_list()
    for name in ("secret_key", "encryption_keys"):
        mode = stat.S_IMODE(os.stat(tmp_path / name).st_mode)
        assert mode == 0o600
    assert first.effective_database_url == f"sqlite:///{tmp_path / 'digipersona.db'}"


def test_processes_starting_together_agree_on_generated_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process writes the secret while this one makes its own: both use the first."""
    from digipersona import config

    real = config.secrets.token_urlsafe

    def other_process_wins(nbytes: int | None = None) -> str:
        if not (tmp_path / "secret_key").exists():
            (tmp_path / "secret_key").write_text("their-key-" + "k" * 40 + "\n")
        return real(nbytes)

    monkeypatch.setattr(config.secrets, "token_urlsafe", other_process_wins)
    settings = Settings(data_dir=tmp_path).ensure_secrets()
    assert settings.secret_key_value() == "their-key-" + "k" * 40
    assert sorted(p.name for p in tmp_path.iterdir()) == ["encryption_keys", "secret_key"]


@pytest.mark.parametrize("secret", [None, "changeme", "short"])
def test_production_refuses_missing_or_placeholder_secrets(
    tmp_path: Path, secret: str | None
) -> None:
    settings = Settings(
        env="production",
        data_dir=tmp_path,
        secret_key=secret,
        encryption_keys=Fernet.generate_key().decode(),
        database_url="postgresql+psycopg://x@127.0.0.1/db",
    )
    with pytest.raises(ConfigError, match="DIGIPERSONA_SECRET_KEY"):
        settings.ensure_secrets()
    assert not (tmp_path / "secret_key").exists()


def test_production_requires_database_url(tmp_path: Path) -> None:
    settings = Settings(
        env="production",
        data_dir=tmp_path,
        secret_key=secrets.token_urlsafe(48),
        encryption_keys=Fernet.generate_key().decode(),
    )
    with pytest.raises(ConfigError, match="DIGIPERSONA_DATABASE_URL"):
        settings.ensure_secrets()


def production(tmp_path: Path, **values: Any) -> Settings:
    base: dict[str, Any] = {
        "env": "production",
        "data_dir": tmp_path,
        "secret_key": secrets.token_urlsafe(48),
        "encryption_keys": Fernet.generate_key().decode(),
        "database_url": "postgresql+psycopg://x@127.0.0.1/db",
        "base_url": "https://social.example",
    }
    return Settings(**{**base, **values})


@pytest.mark.parametrize(
    "secret", ["a" * 32, "changeme" * 4, "0123456789" * 4, "abcdefghi" * 4, "ab" * 20]
)
def test_production_refuses_a_guessable_secret_key(tmp_path: Path, secret: str) -> None:
    with pytest.raises(ConfigError) as caught:
        production(tmp_path, secret_key=secret).ensure_secrets()
    message = str(caught.value)
    assert "DIGIPERSONA_SECRET_KEY looks guessable" in message
    assert "secrets.token_urlsafe(48)" in message and "digipersona keys generate" in message
    assert secret not in message


@pytest.mark.parametrize(
    "make",
    [
        lambda: secrets.token_urlsafe(48),
        lambda: secrets.token_hex(32),
        lambda: Fernet.generate_key().decode(),  # what `digipersona keys generate` prints
    ],
)
def test_production_accepts_generated_secret_keys(tmp_path: Path, make: Any) -> None:
    for _ in range(50):
        production(tmp_path, secret_key=make()).ensure_secrets()


def test_non_secure_session_cookie_in_production_is_a_loud_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from digipersona.app import create_app

    settings = production(
        tmp_path,
        base_url="http://social.example",
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        embedded_worker=False,
        auto_migrate=False,
    ).ensure_secrets()
    assert not settings.effective_cookie_secure
    with caplog.at_level(logging.WARNING, logger="digipersona.config"):
        create_app(settings)
    warnings = [r.getMessage() for r in caplog.records if r.name == "digipersona.config"]
    assert len(warnings) == 1
    assert warnings[0].startswith("SECURITY WARNING") and "Secure flag" in warnings[0]
    # Neither over https nor outside production.
    assert production(tmp_path).startup_warnings() == []
    assert production(tmp_path, base_url="http://x", env="embedded").startup_warnings() == []
    assert production(tmp_path, base_url="http://x", cookie_secure=True).startup_warnings() == []


def test_file_variants_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("s" * 48 + "\n")
    monkeypatch.setenv("DIGIPERSONA_SECRET_KEY", "from-env")
    monkeypatch.setenv("DIGIPERSONA_SECRET_KEY_FILE", str(key_file))
    monkeypatch.setenv("DIGIPERSONA_DATA_DIR", str(tmp_path / "d"))
    settings = Settings().ensure_secrets()
    assert settings.secret_key_value() == "s" * 48


def test_unreadable_file_variant_names_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGIPERSONA_ENCRYPTION_KEYS_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="DIGIPERSONA_ENCRYPTION_KEYS_FILE"):
        Settings()


def test_bad_encryption_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="entry 2 is not a Fernet key"):
        Settings(
            data_dir=tmp_path, encryption_keys=f"{Fernet.generate_key().decode()},nope"
        ).ensure_secrets()


def test_redis_url_falls_back_to_redis_broker() -> None:
    assert (
        Settings(broker_url="redis://127.0.0.1:6379/0").effective_redis_url
        == "redis://127.0.0.1:6379/0"
    )
    assert Settings(broker_url="amqp://guest@127.0.0.1//").effective_redis_url is None


def test_cookie_secure_follows_base_url() -> None:
    assert Settings(base_url="https://social.example.com").effective_cookie_secure is True
    assert Settings().effective_cookie_secure is False


def test_outbound_allowed_networks_are_parsed_and_checked() -> None:
    settings = Settings(outbound_allowed_networks=" 10.0.0.0/8, fd00::/8,192.168.1.7 ,")
    assert [str(n) for n in settings.outbound_networks] == [
        "10.0.0.0/8",
        "fd00::/8",
        "192.168.1.7/32",
    ]
    assert Settings().outbound_networks == ()
    with pytest.raises(
        ValueError, match=re.escape("DIGIPERSONA_OUTBOUND_ALLOWED_NETWORKS entry '10.0.0.0/33'")
    ):
        Settings(outbound_allowed_networks="10.0.0.0/8,10.0.0.0/33")


def test_links_follow_the_served_address_until_a_base_url_is_set() -> None:
    assert Settings(port=8101).public_base_url == "http://127.0.0.1:8101"
    assert Settings(host="0.0.0.0", port=8101).public_base_url == "http://127.0.0.1:8101"  # noqa: S104
    assert Settings(host="::", port=8101).public_base_url == "http://[::1]:8101"
    assert Settings(host="fd00::5", port=81).public_base_url == "http://[fd00::5]:81"
    assert Settings(base_url="https://social.example/", port=8101).public_base_url == (
        "https://social.example"
    )


def test_production_without_a_base_url_warns_at_start(tmp_path: Path) -> None:
    warnings = production(tmp_path, base_url=None, cookie_secure=True).startup_warnings()
    assert len(warnings) == 1
    assert warnings[0].startswith("DIGIPERSONA_BASE_URL is not set")
    assert "http://127.0.0.1:8000" in warnings[0]
    assert production(tmp_path, base_url=None, env="embedded").startup_warnings() == []


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("DIGIPERSONA_"):
            monkeypatch.delenv(name)


def test_settings_files_in_the_working_directory_and_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``.env`` and ``digipersona.toml`` where the command runs, then in the data dir they name;
    the environment wins over both."""
    _clean_env(monkeypatch)
    data = tmp_path / "data"
    data.mkdir()
    key = tmp_path / "key"
    key.write_text(secrets.token_urlsafe(48) + "\n")
    (tmp_path / ".env").write_text(f"DIGIPERSONA_DATA_DIR={data}\nDIGIPERSONA_PORT=8101\n")
    (tmp_path / "digipersona.toml").write_text('registration = "invite_only"\nport = 9000\n')
    (data / "digipersona.toml").write_text(
        'outbound_allowed_networks = "10.0.0.0/8"\nregistration = "closed"\n'
        f'secret_key_file = "{key}"\n'
    )
    (data / ".env").write_text("DIGIPERSONA_LOG_LEVEL=debug\n")
    monkeypatch.chdir(tmp_path)
    settings = Settings().ensure_secrets()
    assert settings.data_dir == data
    assert settings.port == 8101  # .env before digipersona.toml
    assert settings.registration == "invite_only"  # the working directory before the data dir
    assert settings.outbound_allowed_networks == "10.0.0.0/8"
    assert settings.log_level == "DEBUG"
    assert settings.secret_key_value() == key.read_text().strip()
    monkeypatch.setenv("DIGIPERSONA_PORT", "7000")
    assert Settings().port == 7000


def test_the_cli_reads_the_settings_file_serve_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from digipersona.cli.main import app
    from digipersona.config import get_settings

    _clean_env(monkeypatch)
    data = tmp_path / "served"
    (tmp_path / "digipersona.toml").write_text(f'data_dir = "{data}"\n')
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["users", "create", "--email", "cli@example.com", "--password", "x" * 8 + "Aa1!z9"]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert (data / "digipersona.db").exists()
