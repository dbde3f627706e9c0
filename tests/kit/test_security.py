"""Passwords: the unknown-account check costs what a real one does, and importing costs nothing."""

from __future__ import annotations

import subprocess
import sys

from argon2 import PasswordHasher

from digipersona.kit import security

IMPORT_ONLY = """
from argon2 import PasswordHasher
calls = []
original = PasswordHasher.hash
PasswordHasher.hash = lambda self, *a, **k: calls.append(1) or original(self, *a, **k)
import digipersona.kit.security
print(len(calls))
"""


def test_importing_hashes_nothing() -> None:
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_ONLY], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "0"


def test_an_unknown_account_is_checked_against_a_hash_of_the_same_cost() -> None:
    hasher = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    dummy = security._dummy_hash(hasher)
    assert not hasher.check_needs_rehash(dummy)  # same parameters as real hashes
    assert security._dummy_hash(hasher) is dummy  # made once
    assert security.verify_password(None, "not-a-real-password-0") is False
    real = security.hash_password("a real password 1")
    assert security.verify_password(real, "a real password 1") is True
    assert security.verify_password(real, "another password 1") is False
