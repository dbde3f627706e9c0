"""Passwords, opaque tokens and JWT access tokens."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from digipersona.kit.time import utcnow

_hasher = PasswordHasher()

JWT_ISSUER = "digipersona"
JWT_AUDIENCE = "digipersona:api"
JWT_ALGORITHM = "HS256"

PASSWORD_RULE = (
    "Passwords need at least 10 characters, including a letter and a digit or symbol, "  # noqa: S105
    "and must not contain your email address or be a common password."
)


def hash_password(password: str) -> str:
    """Argon2id hash of a password."""
    return _hasher.hash(password)


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A valid hash to verify against when the account does not exist, so timing does not
    reveal it; made on first use (a full-cost hash at import slowed every start by ~0.5 s)."""
    return hasher.hash("not-a-real-password-0")


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password in constant-ish time, also when there is no account."""
    try:
        expected = password_hash or _dummy_hash(_hasher)
        return _hasher.verify(expected, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


COMMON_PASSWORDS = 10_000
COMMON_PASSWORD_MESSAGE = (
    "This password is one of the 10,000 most common ones, which attackers try first: "  # noqa: S105
    "choose another."
)


@cache
def common_passwords() -> frozenset[str]:
    """The most common passwords, lowercased: the top of zxcvbn's ranked list of leaked ones."""
    # Imported on first use: the module builds ~100,000 words that only password checks need.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    ranked: list[str] = FREQUENCY_LISTS["passwords"]
    return frozenset(p.lower() for p in ranked[:COMMON_PASSWORDS])


def password_problem(password: str, email: str | None = None) -> str | None:
    """Return what is wrong with a password, or ``None`` if it is acceptable."""
    if len(password) < 10:
        return PASSWORD_RULE
    if len(password) > 256:
        return "Passwords can be at most 256 characters long."
    if not re.search(r"[^\W\d_]", password) or not re.search(r"[\d\W_]", password):
        return PASSWORD_RULE
    if email and email.split("@")[0].lower() in password.lower() and len(email.split("@")[0]) >= 3:
        return PASSWORD_RULE
    if password.lower() in common_passwords():
        return COMMON_PASSWORD_MESSAGE
    return None


def new_token(prefix: str, nbytes: int = 32) -> str:
    """An opaque random token with a recognisable prefix (``dp_pat_...``)."""
    return f"{prefix}{secrets.token_urlsafe(nbytes)}"


def token_hash(token: str) -> str:
    """SHA-256 of an opaque token: what we store, so a database leak reveals no usable token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def constant_time_equals(a: str, b: str) -> bool:
    """Compare secrets without leaking timing."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


@dataclass(frozen=True)
class AccessClaims:
    """The verified claims of an access token."""

    user_id: uuid.UUID
    workspace_id: uuid.UUID
    token_id: str
    expires_at: datetime


class InvalidAccessToken(Exception):
    """The JWT is expired, forged, malformed or meant for someone else."""


def create_access_token(
    secret: str, user_id: uuid.UUID, workspace_id: uuid.UUID, minutes: int
) -> tuple[str, datetime]:
    """A short-lived signed access token and its expiry."""
    now = utcnow()
    expires = now + timedelta(minutes=minutes)
    payload: dict[str, Any] = {
        "iss": JWT_ISSUER,
        "aud": JWT_AUDIENCE,
        "sub": str(user_id),
        "wid": str(workspace_id),
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": uuid.uuid4().hex,
        "typ": "access",
    }
    return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM), expires


def decode_access_token(secret: str, token: str) -> AccessClaims:
    """Verify signature, issuer, audience, expiry and type of an access token."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            audience=JWT_AUDIENCE,
            issuer=JWT_ISSUER,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidAccessToken("The access token has expired: refresh it.") from exc
    except jwt.InvalidAudienceError as exc:
        raise InvalidAccessToken("The access token is not meant for this API.") from exc
    except jwt.PyJWTError as exc:
        raise InvalidAccessToken("The access token is invalid.") from exc
    if payload.get("typ") != "access":
        raise InvalidAccessToken("The token is not an access token.")
    try:
        return AccessClaims(
            user_id=uuid.UUID(str(payload["sub"])),
            workspace_id=uuid.UUID(str(payload["wid"])),
            token_id=str(payload.get("jti", "")),
            expires_at=datetime.fromtimestamp(int(payload["exp"]), tz=utcnow().tzinfo),
        )
    except (KeyError, ValueError) as exc:
        raise InvalidAccessToken("The access token is invalid.") from exc
