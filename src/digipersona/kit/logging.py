"""Structured logging with request ids and secret redaction.

Every record passes through ``RedactingFilter``: bearer tokens, JWTs, our opaque tokens (any
``dp_<kind>_...``), AI provider keys (``sk-...``), Fernet ciphertexts, ``password=...`` pairs,
URL query parameters that carry a secret (an invitation, an OAuth code) and URL paths that are a
secret (the iCal feed, a review link) are masked before any handler sees them, in the message
and in the ``path`` field alike, so neither a careless log line nor an access log line can leak
a credential.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[REDACTED]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[REDACTED-JWT]"),
    # Every opaque token the app issues is dp_<kind>_<random>: API (pat), refresh (rt), invitation
    # (inv), iCal feed (ical), inbound webhook trigger (hook), review link (rl), and whatever kind
    # comes next.
    (re.compile(r"\bdp_[a-z]{2,10}_[A-Za-z0-9_-]{8,}"), "[REDACTED-TOKEN]"),
    # Query parameters that carry a secret in a URL (access log lines show the full target).
    (
        re.compile(
            r"(?i)([?&](?:invitation|token|code|state|key|secret|signature|oauth_token|"
            r"oauth_verifier)=)[^&\s\"'#]+"
        ),
        r"\1[REDACTED]",
    ),
    # Paths that are a secret themselves: the iCal feed URL is its own credential.
    (re.compile(r"(/ical/)[^/\s?#\"']+"), r"\1[REDACTED]"),
    # A review link's page (/review/<token>) likewise: the path lets anyone decide on posts.
    (re.compile(r"(/review/)[^/\s?#\"']+"), r"\1[REDACTED]"),
    (re.compile(r"gAAAAA[A-Za-z0-9_=-]{20,}"), "[REDACTED-CIPHERTEXT]"),
    # AI provider keys a workspace saves (OpenAI sk-/sk-proj-, Anthropic sk-ant-, and the many
    # OpenAI-compatible services that copied the sk- form).
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), "[REDACTED-AI-KEY]"),
    (
        re.compile(
            r"(?i)([\"']?(?:password|passwd|secret|token|access_token|refresh_token|"
            r"app_password|api_key|apikey|x-api-key|client_secret|authorization)[\"']?\s*[:=]\s*)"
            r"(\"[^\"]*\"|'[^']*'|[^\s,&}]+)"
        ),
        r"\1[REDACTED]",
    ),
]


# Structured fields (``extra=``) that hold free text or a URL path; JSON logs print them as is.
_TEXT_FIELDS = ("path", "event")


def redact(text: str) -> str:
    """Mask anything that looks like a credential."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Renders the message once, redacted, and attaches the request id."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        for key in _TEXT_FIELDS:
            value = getattr(record, key, None)
            if isinstance(value, str):
                setattr(record, key, redact(value))
        record.request_id = request_id_var.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key in ("method", "path", "status", "duration_ms", "client", "event"):
            if hasattr(record, key):
                data[key] = getattr(record, key)
        if record.exc_info:
            data["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return redact(text)


# Alembic's start-up chatter: one line per autogenerate plugin it sets up (seven) and two about
# its dialect, at every start. "Running upgrade ..." lines stay: they say what changed.
_ALEMBIC_CHATTER = ("Context impl ", "Will assume ")


class _QuietAlembic(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith(_ALEMBIC_CHATTER))


def _quiet_alembic() -> None:
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    migration = logging.getLogger("alembic.runtime.migration")
    if not any(isinstance(f, _QuietAlembic) for f in migration.filters):
        migration.addFilter(_QuietAlembic())


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Install one stderr handler with redaction on the root logger."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_digipersona", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._digipersona = True  # type: ignore[attr-defined]
    handler.addFilter(RedactingFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            TextFormatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    root.addHandler(handler)
    root.setLevel(level)
    _quiet_alembic()
    # uvicorn's loggers pass everything to ours (with redaction); a uvicorn.Config with a
    # log_level or access_log=False elsewhere in the process must not leave them filtered.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers = []
        uvicorn_logger.propagate = True
        uvicorn_logger.setLevel(logging.NOTSET)
        uvicorn_logger.disabled = False
