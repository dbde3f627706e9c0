"""Timestamp identifiers (TIDs), the record keys of ``app.bsky.feed.post``.

A TID is a 64-bit integer written as 13 characters of "base32-sortable"
(``234567abcdefghijklmnopqrstuvwxyz``): the top bit is 0, then 53 bits of microseconds since the
Unix epoch, then a 10-bit clock id (atproto spec "Record Key" / "TID"; platform-apis 2.8).

digipersona chooses the rkey itself so a retry of the same publication writes to the same key:
the PDS refuses the second write instead of creating a duplicate post, and ``getRecord`` on the
key tells whether an earlier attempt landed.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

from digipersona.kit.time import ensure_utc

ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_LENGTH = 13
TID_RE = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
_MAX_MICROS = (1 << 53) - 1
_CLOCK_BITS = 10
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_PARTS = 1000


def encode(micros: int, clock_id: int) -> str:
    """The TID for a microsecond timestamp and a clock id (0..1023)."""
    if not 0 <= micros <= _MAX_MICROS:
        raise ValueError("TID timestamp out of range")
    if not 0 <= clock_id < (1 << _CLOCK_BITS):
        raise ValueError("TID clock id must be 0..1023")
    value = (micros << _CLOCK_BITS) | clock_id
    chars = []
    for _ in range(TID_LENGTH):
        chars.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def decode(tid: str) -> tuple[int, int]:
    """``(microseconds, clock_id)`` of a TID; raises ``ValueError`` for an invalid one."""
    if not TID_RE.match(tid):
        raise ValueError(f"not a TID: {tid!r}")
    value = 0
    for char in tid:
        value = (value << 5) | ALPHABET.index(char)
    return value >> _CLOCK_BITS, value & ((1 << _CLOCK_BITS) - 1)


def is_valid(tid: str) -> bool:
    """Whether ``tid`` is syntactically a TID."""
    return bool(TID_RE.match(tid))


def deterministic_tid(created_at: datetime, idempotency_key: str, part_index: int) -> str:
    """The rkey of part ``part_index`` of a publication: the same inputs give the same TID.

    The timestamp is ``created_at`` to the second; its sub-second digits come from a hash of
    the idempotency key, plus the part index. So two publications created in the same second
    (a batch scheduled at once) differ in a space of about 10^6 timestamps times 1024 clock ids
    (the clock id is hashed from the key and the part index), and parts of one thread never
    share a key because their timestamps differ.
    """
    if not 0 <= part_index < _MAX_PARTS:
        raise ValueError(f"part_index must be 0..{_MAX_PARTS - 1}")
    seconds = (ensure_utc(created_at) - _EPOCH) // timedelta(seconds=1)
    key_digest = hashlib.sha256(idempotency_key.encode("utf-8")).digest()
    # Leave room for the part index so a thread never spills into the next second.
    sub_second = int.from_bytes(key_digest[:4], "big") % (1_000_000 - _MAX_PARTS)
    micros = seconds * 1_000_000 + sub_second + part_index
    part_digest = hashlib.sha256(f"{idempotency_key}\x00{part_index}".encode()).digest()
    clock_id = int.from_bytes(part_digest[:2], "big") & ((1 << _CLOCK_BITS) - 1)
    return encode(micros, clock_id)
