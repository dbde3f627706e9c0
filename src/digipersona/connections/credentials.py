"""Encrypting, decrypting and refreshing a connection's tokens.

Refresh is serialised per connection with a compare-and-swap on ``token_version``: X refresh
tokens rotate (the old one dies on use), so two workers refreshing the same token at once would
kill the session. The first to commit wins; the other sees the new tokens and uses them.
"""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from digipersona.connections.repository import ConnectionRepository
from digipersona.db import write_scope
from digipersona.kit.crypto import TokenCipher
from digipersona.kit.time import utcnow
from digipersona.models import Connection
from digipersona.platforms.base import Credentials, Provider, TokenSet
from digipersona.platforms.errors import AuthExpired

_local_locks: defaultdict[uuid.UUID, threading.Lock] = defaultdict(threading.Lock)
T = TypeVar("T")


class Decrypter(Protocol):
    """A ``TokenCipher``, or anything that decrypts like one (the engine's per-process memo)."""

    def decrypt(self, ciphertext: str) -> str: ...


class StoredTokens(Protocol):
    """A ``Connection``, or a Core row with its token columns."""

    @property
    def access_token_enc(self) -> str: ...
    @property
    def refresh_token_enc(self) -> str | None: ...
    @property
    def expires_at(self) -> datetime | None: ...
    @property
    def scopes(self) -> Sequence[str]: ...
    @property
    def account_id(self) -> str: ...
    @property
    def extra(self) -> dict[str, Any]: ...


def credentials_for(connection: StoredTokens, cipher: Decrypter) -> Credentials:
    """Decrypt a connection's tokens for one provider call (never logged, never stored)."""
    return Credentials(
        access_token=cipher.decrypt(connection.access_token_enc),
        refresh_token=cipher.decrypt(connection.refresh_token_enc)
        if connection.refresh_token_enc
        else None,
        expires_at=connection.expires_at,
        scopes=tuple(connection.scopes),
        account_id=connection.account_id,
        extra=dict(connection.extra),
    )


def apply_tokens(connection: Connection, tokens: TokenSet, cipher: TokenCipher) -> None:
    """Store new tokens on the row, encrypted."""
    connection.access_token_enc = cipher.encrypt(tokens.access_token)
    if tokens.refresh_token is not None:
        connection.refresh_token_enc = cipher.encrypt(tokens.refresh_token)
    connection.expires_at = tokens.expires_at
    if tokens.scopes:
        connection.scopes = list(tokens.scopes)
    if tokens.extra:
        connection.extra = {**connection.extra, **dict(tokens.extra)}
    connection.last_refreshed_at = utcnow()
    connection.token_version += 1


def refresh_serialised(
    factory: sessionmaker[Session],
    connection_id: uuid.UUID,
    seen_version: int,
    provider: Provider,
    cipher: TokenCipher,
) -> Credentials:
    """Refresh once for everyone: whoever finds a newer token version just uses it.

    Threads of one process serialise on a lock; processes serialise on the connection row
    (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite, serve and its publishing helpers on the
    database's write lock, which the unit of work holds from its start). The lock is held across
    the refresh call on purpose: a rotating refresh token must be used once.
    Raises ``AuthExpired`` when the platform refuses the refresh (the user must reconnect).
    """
    with _local_locks[connection_id], write_scope(factory) as session:
        connection = ConnectionRepository(session).get_for_refresh(connection_id)
        if connection is None:
            raise AuthExpired("The connection was deleted.")
        if connection.token_version != seen_version:
            return credentials_for(connection, cipher)
        tokens = provider.refresh(credentials_for(connection, cipher))
        apply_tokens(connection, tokens, cipher)
        return credentials_for(connection, cipher)


def call_with_refresh(
    factory: sessionmaker[Session],
    cipher: TokenCipher,
    provider: Provider,
    *,
    connection_id: uuid.UUID,
    token_version: int,
    credentials: Credentials,
    call: Callable[[Credentials], T],
) -> tuple[T, Credentials]:
    """``call`` with the credentials; when the platform answers ``AuthExpired``, refresh once
    (``refresh_serialised``) and call again. Returns the answer and the credentials that got
    it (reuse them for the connection's next call). A second ``AuthExpired`` propagates."""
    try:
        return call(credentials), credentials
    except AuthExpired:
        fresh = refresh_serialised(factory, connection_id, token_version, provider, cipher)
        return call(fresh), fresh
