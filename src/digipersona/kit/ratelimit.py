"""Fixed-window counters for login throttling: in memory (embedded) or Redis (scale-out)."""

from __future__ import annotations

import threading
import time
from typing import Protocol

import redis


class Limiter(Protocol):
    def hit(self, key: str, window_seconds: int) -> int:
        """Count one event for ``key`` in the current window; return the window's count."""

    def count(self, key: str, window_seconds: int) -> int:
        """The current window's count for ``key``."""

    def reset(self, key: str) -> None:
        """Forget ``key`` (after a successful login)."""

    def retry_after(self, key: str, window_seconds: int) -> int:
        """Seconds until the current window of ``key`` ends."""


class MemoryLimiter:
    """Process-local counters; right for the single-process embedded mode."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, tuple[float, int]] = {}

    def _current(self, key: str, window_seconds: int) -> tuple[float, int]:
        now = time.monotonic()
        start, count = self._data.get(key, (now, 0))
        if now - start >= window_seconds:
            start, count = now, 0
        return start, count

    def hit(self, key: str, window_seconds: int) -> int:
        with self._lock:
            start, count = self._current(key, window_seconds)
            self._data[key] = (start, count + 1)
            return count + 1

    def count(self, key: str, window_seconds: int) -> int:
        with self._lock:
            return self._current(key, window_seconds)[1]

    def reset(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def retry_after(self, key: str, window_seconds: int) -> int:
        with self._lock:
            start, _ = self._current(key, window_seconds)
            return max(1, int(window_seconds - (time.monotonic() - start)))


class RedisLimiter:
    """Counters shared by every web process through Redis (INCR + EXPIRE in one pipeline)."""

    def __init__(self, client: redis.Redis, prefix: str = "digipersona:rl:") -> None:
        self._redis = client
        self._prefix = prefix

    def hit(self, key: str, window_seconds: int) -> int:
        name = self._prefix + key
        pipe = self._redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, window_seconds, nx=True)
        count, _ = pipe.execute()
        return int(count)

    def count(self, key: str, window_seconds: int) -> int:
        value = self._redis.get(self._prefix + key)
        return int(value) if value is not None else 0

    def reset(self, key: str) -> None:
        self._redis.delete(self._prefix + key)

    def retry_after(self, key: str, window_seconds: int) -> int:
        ttl = int(self._redis.ttl(self._prefix + key))
        return ttl if ttl > 0 else window_seconds


def build_limiter(redis_url: str | None) -> Limiter:
    """Redis when configured (scale-out), memory otherwise."""
    if redis_url:
        return RedisLimiter(redis.Redis.from_url(redis_url, socket_timeout=2))
    return MemoryLimiter()
