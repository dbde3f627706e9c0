"""Encryption at rest for platform tokens (Fernet; the first key encrypts, all decrypt)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


class TokenCipher:
    """Encrypts and decrypts secrets with ``DIGIPERSONA_ENCRYPTION_KEYS``."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    def encrypt(self, plaintext: str) -> str:
        """Encrypt with the first (newest) key."""
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """Decrypt with whichever key matches."""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise DecryptionError(
                "a stored secret cannot be decrypted: is an old key missing from "
                "DIGIPERSONA_ENCRYPTION_KEYS?"
            ) from exc

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt with the first key (used by ``digipersona keys rotate``)."""
        try:
            return self._fernet.rotate(ciphertext.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise DecryptionError(
                "a stored secret cannot be decrypted with any configured key"
            ) from exc


def generate_key() -> str:
    """A new Fernet key."""
    return Fernet.generate_key().decode("ascii")
