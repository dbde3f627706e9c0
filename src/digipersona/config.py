"""The one typed Settings object, read from ``DIGIPERSONA_*`` environment variables.

Every secret also accepts a ``*_FILE`` variant (``DIGIPERSONA_SECRET_KEY_FILE=/run/secrets/key``)
whose file content wins over the plain variable. In embedded mode (the default) missing secrets
are generated on first run into the data directory; with ``DIGIPERSONA_ENV=production`` they must
be given and placeholders are refused. See docs/configuration.md for every setting.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from cryptography.fernet import Fernet
from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ENV_PREFIX = "DIGIPERSONA_"
# Optional settings files, read from the working directory and then from the data directory
# (the environment wins over both; see Settings.settings_customise_sources).
DOTENV_NAME = ".env"
TOML_NAME = "digipersona.toml"
# Addresses that mean "every interface": a link needs an address a browser can open.
_WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "[::1]"}  # noqa: S104
# Secrets that may come from a file (<NAME>_FILE) instead of the environment.
SECRET_FIELDS = (
    "secret_key",
    "encryption_keys",
    "database_url",
    "broker_url",
    "llm_api_key",
    "linkedin_client_secret",
    "x_client_secret",
    "smtp_password",
    "metrics_token",
)
PLACEHOLDERS = {
    "",
    "changeme",
    "change-me",
    "changethis",
    "secret",
    "password",
    "placeholder",
    "xxx",
}


# A production secret key needs this many different characters (and must not be one short
# pattern repeated): 32 x "a" or "changeme" x 4 are refused, any generated key passes.
SECRET_MIN_DISTINCT = 10
GENERATE_KEY_HINT = "generate one with `digipersona keys generate`"
RANDOM_KEY_ADVICE = (
    "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(48))'` "
    "or `digipersona keys generate`"
)


class ConfigError(Exception):
    """The configuration cannot work; the message names the setting to fix."""


def _read_file_variants(values: dict[str, Any]) -> dict[str, Any]:
    for name in SECRET_FIELDS:
        # The environment's DIGIPERSONA_<NAME>_FILE, else the same key from a settings file.
        from_files = values.pop(f"{name}_file", None)
        path = os.environ.get(f"{ENV_PREFIX}{name.upper()}_FILE") or from_files
        if path:
            try:
                values[name] = Path(path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    f"{ENV_PREFIX}{name.upper()}_FILE points to {path!r}, which cannot be read: "
                    f"{exc.strerror}"
                ) from exc
    return values


class Settings(BaseSettings):
    """All configuration of one digipersona process."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=False)

    env: Literal["embedded", "development", "production", "test"] = "embedded"
    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir("digipersona")))
    database_url: str | None = None
    broker_url: str | None = None
    redis_url: str | None = None
    secret_key: SecretStr | None = None
    encryption_keys: SecretStr | None = None
    # Unset: links are built from the address ``serve`` listens on (``public_base_url``).
    base_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # How long ``serve`` lets requests and jobs finish after SIGTERM before it exits anyway.
    shutdown_grace_seconds: float = Field(default=10.0, gt=0, le=600)
    registration: Literal["open", "invite_only", "closed"] = "open"
    cookie_secure: bool | None = None
    access_token_minutes: int = Field(default=15, ge=1, le=1440)
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_ip: int = Field(default=20, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    max_body_bytes: int = Field(default=2_000_000, ge=1024)
    # When set, GET /metrics needs "Authorization: Bearer <token>" (for an exposed port).
    metrics_token: SecretStr | None = None
    auto_migrate: bool = True
    # Database connections of the web app: the pool (default 5 + 5 on SQLite, 10 + 10 on
    # PostgreSQL), how long a request waits for a free connection before it is answered 503
    # with Retry-After, and the page cache of each SQLite connection in MiB.
    db_pool_size: int | None = Field(default=None, ge=1, le=200)
    db_max_overflow: int | None = Field(default=None, ge=0, le=200)
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0, le=300)
    sqlite_cache_mib: int = Field(default=8, ge=1, le=1024)

    # AI generation
    llm_provider: Literal["template", "openai", "anthropic"] = "template"
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str | None = None
    llm_timeout_seconds: float = 60.0
    llm_draft_max_tokens: int = Field(default=1024, ge=16, le=1024)

    # Platforms
    linkedin_client_id: str | None = None
    linkedin_client_secret: SecretStr | None = None
    linkedin_oauth_url: str = "https://www.linkedin.com/oauth/v2"
    linkedin_api_url: str = "https://api.linkedin.com"
    linkedin_version: str = "202609"
    x_client_id: str | None = None
    x_client_secret: SecretStr | None = None
    x_authorize_url: str = "https://x.com/i/oauth2/authorize"
    x_api_url: str = "https://api.x.com"
    bluesky_service_url: str = "https://bsky.social"
    platform_timeout_seconds: float = 30.0
    # Extra provider classes ("package.module:Class", comma-separated) for networks not built in.
    provider_plugins: str = ""
    # Networks (comma-separated CIDRs) that URLs chosen by users may reach besides public
    # addresses: feeds, webhook targets, Bluesky PDSes, notification webhooks (kit/outbound.py).
    outbound_allowed_networks: str = ""

    # Publishing engine
    embedded_worker: bool = True
    readiness_requires_scheduler: bool = True
    worker_threads: int = Field(default=8, ge=1, le=256)
    # Embedded mode: processes that publish (serve itself plus N - 1 helpers, worker/processes.py).
    dispatch_processes: int = Field(default=1, ge=1, le=32)
    dispatch_batch: int = Field(default=200, ge=1, le=1000)
    dispatch_poll_seconds: float = Field(default=0.25, gt=0, le=10)
    # The page cache (MiB) of the publishing engine's SQLite connections: its claim reads the
    # due index and the joined rows of every batch, and a warm cache spares the re-reads (64
    # measured no faster than 2 for 10,000 due at once, and cost ~100 MB resident under load).
    dispatch_sqlite_cache_mib: int = Field(default=16, ge=1, le=1024)
    publish_lease_seconds: int = Field(default=600, ge=10)
    publish_max_attempts: int = Field(default=8, ge=1, le=50)
    retry_base_seconds: float = Field(default=30.0, gt=0)
    retry_max_seconds: float = Field(default=3600.0, gt=0)
    scheduler_stale_seconds: int = Field(default=120, ge=5)
    slot_capacity: int = Field(default=1, ge=1, le=100)
    # How often each connection's mentions/comments are read back (interactions inbox).
    interactions_poll_seconds: int = Field(default=900, ge=60)
    # Refit each workspace's lead model on its new inbox labels every N hours (0: off, the
    # default; ``digipersona leads retrain`` does it by hand).
    lead_retrain_hours: int = Field(default=0, ge=0, le=24 * 365)
    # Quotas (documented defaults from the platforms; 0 disables a quota).
    quota_linkedin_member_posts_per_day: int = Field(default=100, ge=0)
    quota_linkedin_app_posts_per_day: int = Field(default=300, ge=0)
    quota_linkedin_app_requests_per_day: int = Field(default=500, ge=0)
    quota_x_user_posts_per_15min: int = Field(default=100, ge=0)
    quota_x_app_posts_per_day: int = Field(default=10000, ge=0)
    quota_bluesky_account_posts_per_hour: int = Field(default=1600, ge=0)
    quota_webhook_posts_per_minute: int = Field(default=0, ge=0)

    # Autopilot (scheduled and event-triggered drafting)
    autopilot_retry_minutes: int = Field(default=15, ge=1, le=1440)
    autopilot_feed_timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    autopilot_feed_max_bytes: int = Field(default=2_000_000, ge=1024)
    autopilot_feed_max_items: int = Field(default=500, ge=1)
    autopilot_feed_drafts_per_poll: int = Field(default=3, ge=1, le=20)
    autopilot_webhook_events_per_hour: int = Field(default=30, ge=0)
    # A post's engagement is "well above" the persona's median at this multiple of it (the
    # median of its other posts on the same platform at the same sync stage).
    autopilot_engagement_multiplier: float = Field(default=3.0, ge=1.0, le=100.0)
    # ...and only once the persona has at least this many such posts to compare with.
    autopilot_engagement_min_history: int = Field(default=5, ge=1, le=1000)

    # Notifications
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "digipersona@localhost"
    smtp_security: Literal["none", "starttls", "ssl"] = "none"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=300)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, then ``.env`` and ``digipersona.toml`` in the
        working directory, then the same two files in the data directory those name."""
        here = _file_sources(settings_cls, Path.cwd())
        data_dir = _first_data_dir((init_settings, env_settings, *here))
        there = _file_sources(settings_cls, data_dir) if data_dir != Path.cwd() else ()
        return (init_settings, env_settings, *here, *there)

    @model_validator(mode="before")
    @classmethod
    def _file_variants(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return _read_file_variants(dict(data))
        return data

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(
                "DIGIPERSONA_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL"
            )
        return level

    @field_validator("outbound_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        _parse_networks(value)
        return value

    # -- derived -----------------------------------------------------------------------------
    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'digipersona.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def public_base_url(self) -> str:
        """Where users reach this server: ``DIGIPERSONA_BASE_URL``, else the address and port
        ``serve`` listens on (which ``serve --host/--port`` write into ``host``/``port``)."""
        if self.base_url:
            return self.base_url.rstrip("/")
        host = _WILDCARD_HOSTS.get(self.host, self.host)
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"  # an IPv6 address in a URL
        return f"http://{host}:{self.port}"

    @property
    def effective_cookie_secure(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.public_base_url.startswith("https://")

    @property
    def effective_redis_url(self) -> str | None:
        if self.redis_url:
            return self.redis_url
        if self.broker_url and self.broker_url.startswith(("redis://", "rediss://")):
            return self.broker_url
        return None

    @property
    def outbound_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """``DIGIPERSONA_OUTBOUND_ALLOWED_NETWORKS``, parsed."""
        return _parse_networks(self.outbound_allowed_networks)

    def secret_key_value(self) -> str:
        assert self.secret_key is not None, "call ensure_secrets() first"
        return self.secret_key.get_secret_value()

    def encryption_key_list(self) -> list[str]:
        assert self.encryption_keys is not None, "call ensure_secrets() first"
        return [k.strip() for k in self.encryption_keys.get_secret_value().split(",") if k.strip()]

    def ensure_secrets(self) -> Settings:
        """Load or generate secrets (embedded) or refuse missing/placeholder ones (production)."""
        if self.is_production:
            self._require_real("secret_key", min_length=32)
            self._require_random("secret_key")
            self._require_real("encryption_keys", min_length=32)
            if not self.database_url:
                raise ConfigError("DIGIPERSONA_DATABASE_URL is required in production")
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            if self.secret_key is None:
                self.secret_key = SecretStr(
                    _load_or_create(self.data_dir / "secret_key", lambda: secrets.token_urlsafe(48))
                )
            if self.encryption_keys is None:
                self.encryption_keys = SecretStr(
                    _load_or_create(
                        self.data_dir / "encryption_keys", lambda: Fernet.generate_key().decode()
                    )
                )
        self._validate_encryption_keys()
        return self

    def _require_real(self, name: str, *, min_length: int) -> None:
        value = getattr(self, name)
        raw = value.get_secret_value() if value is not None else ""
        env = f"{ENV_PREFIX}{name.upper()}"
        if raw.strip().lower() in PLACEHOLDERS:
            raise ConfigError(f"{env} (or {env}_FILE) must be set to a real secret in production")
        if len(raw) < min_length:
            hint = RANDOM_KEY_ADVICE if name == "secret_key" else GENERATE_KEY_HINT
            raise ConfigError(
                f"{env} is too short: use at least {min_length} random characters; {hint}"
            )

    def _require_random(self, name: str) -> None:
        raw = getattr(self, name).get_secret_value()
        repeated = raw in (raw + raw)[1:-1]  # true exactly when raw is a shorter string repeated
        if len(set(raw)) < SECRET_MIN_DISTINCT or repeated:
            env = f"{ENV_PREFIX}{name.upper()}"
            raise ConfigError(
                f"{env} looks guessable (fewer than {SECRET_MIN_DISTINCT} different characters "
                f"or a repeated pattern): {RANDOM_KEY_ADVICE}"
            )

    def startup_warnings(self) -> list[str]:
        """Settings that work but put users at risk; the web app logs them at start."""
        found = []
        if self.is_production and not self.base_url:
            found.append(
                "DIGIPERSONA_BASE_URL is not set: invitation, calendar and OAuth links point at "
                f"{self.public_base_url}, the address this process listens on. Set it to the "
                "public URL users reach (e.g. https://social.example.com)."
            )
        if self.is_production and not self.effective_cookie_secure:
            found.append(
                "SECURITY WARNING: session cookies are issued without the Secure flag "
                f"(the base URL is {self.public_base_url!r}, DIGIPERSONA_COOKIE_SECURE is "
                f"{self.cookie_secure!r}), so any plain-HTTP request sends a logged-in user's "
                "session in clear text. Serve digipersona over HTTPS with an https:// "
                "DIGIPERSONA_BASE_URL (or set DIGIPERSONA_COOKIE_SECURE=true behind a "
                "TLS-terminating proxy)."
            )
        return found

    def _validate_encryption_keys(self) -> None:
        keys = self.encryption_key_list()
        if not keys:
            raise ConfigError("DIGIPERSONA_ENCRYPTION_KEYS is empty: give one or more Fernet keys")
        for index, key in enumerate(keys):
            try:
                Fernet(key.encode())
            except (ValueError, TypeError) as exc:
                raise ConfigError(
                    f"DIGIPERSONA_ENCRYPTION_KEYS entry {index + 1} is not a Fernet key "
                    "(32 url-safe base64 bytes; generate one with `digipersona keys generate`)"
                ) from exc


def _parse_networks(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for entry in (e.strip() for e in value.split(",")):
        if not entry:
            continue
        try:
            # Host bits are ignored (10.1.2.3/8 is 10.0.0.0/8); a bare address is one host.
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(
                f"DIGIPERSONA_OUTBOUND_ALLOWED_NETWORKS entry {entry!r} is not a network: use "
                "CIDRs such as 10.0.0.0/8 or fd00::/8, comma-separated"
            ) from None
    return tuple(networks)


def _file_sources(
    settings_cls: type[BaseSettings], directory: Path
) -> tuple[PydanticBaseSettingsSource, ...]:
    """``.env`` (``DIGIPERSONA_*`` lines) and ``digipersona.toml`` (setting names) in a folder."""
    return (
        DotEnvSettingsSource(settings_cls, env_file=directory / DOTENV_NAME),
        TomlConfigSettingsSource(settings_cls, toml_file=directory / TOML_NAME),
    )


def _first_data_dir(sources: Sequence[PydanticBaseSettingsSource]) -> Path:
    """The data directory the earlier sources name, else the default one."""
    for source in sources:
        value = source().get("data_dir")
        if value:
            return Path(str(value)).expanduser()
    return Path(user_data_dir("digipersona"))


def _load_or_create(path: Path, make: Any) -> str:
    """The secret in ``path``; on first use a new one, created 0600 so other local users
    cannot read it. Processes starting together on one data dir agree: the value is written
    aside and linked into place, so a reader sees no file or a whole one, and the first link
    wins for everybody."""
    if not path.exists():
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(make() + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.link(draft, path)
        except FileExistsError:
            pass  # another process got there first: use its value
        finally:
            draft.unlink(missing_ok=True)
    return path.read_text(encoding="utf-8").strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (secrets loaded); tests build their own instead."""
    return Settings().ensure_secrets()
