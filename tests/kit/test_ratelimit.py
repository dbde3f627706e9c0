from __future__ import annotations

import uuid
from typing import Any

import pytest
import redis

from digipersona.kit.ratelimit import MemoryLimiter, RedisLimiter, build_limiter


def _exercise(limiter: Any) -> None:
    key = f"k-{uuid.uuid4().hex}"
    assert limiter.count(key, 60) == 0
    assert [limiter.hit(key, 60) for _ in range(3)] == [1, 2, 3]
    assert limiter.count(key, 60) == 3
    assert 0 < limiter.retry_after(key, 60) <= 60
    limiter.reset(key)
    assert limiter.count(key, 60) == 0


def test_memory_limiter() -> None:
    _exercise(MemoryLimiter())


@pytest.mark.redis
def test_redis_limiter_against_real_redis(redis_url: str) -> None:
    limiter = build_limiter(redis_url)
    assert isinstance(limiter, RedisLimiter)
    _exercise(limiter)
    # Windows expire in Redis itself, so every web process shares them.
    key = f"exp-{uuid.uuid4().hex}"
    limiter.hit(key, 1)
    client = redis.Redis.from_url(redis_url)
    assert 0 < int(client.ttl("digipersona:rl:" + key)) <= 1  # type: ignore[arg-type]


@pytest.mark.redis
def test_login_throttle_shared_through_redis(
    tmp_path: Any, database_url: str, redis_url: str
) -> None:
    """Two app instances (two web processes) share one failure counter through Redis."""
    from fastapi.testclient import TestClient

    from digipersona.app import create_app
    from tests.conftest import make_settings, register_actor

    redis.Redis.from_url(redis_url).flushdb()
    settings = make_settings(
        tmp_path, database_url, redis_url=redis_url, login_max_failures_per_account=2
    )
    app_a, app_b = create_app(settings), create_app(settings)
    with TestClient(app_a) as a, TestClient(app_b) as b:
        actor = register_actor(a, "shared")
        bad = {"email": actor.email, "password": "wrong password 1"}
        assert a.post("/api/v1/auth/login", json=bad).status_code == 401
        assert b.post("/api/v1/auth/login", json=bad).status_code == 401
        r = a.post(
            "/api/v1/auth/login", json={"email": actor.email, "password": "correct horse 42"}
        )
        assert r.status_code == 429
