"""The machine's real PostgreSQL and Redis, one fresh database and Redis index per test run."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable

import psycopg
import redis

PG_HOST = os.environ.get("STACKYARD_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("STACKYARD_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("STACKYARD_TEST_PG_USER", "postgres")
REDIS_BASE = os.environ.get("STACKYARD_TEST_REDIS", "redis://127.0.0.1:6379")
LOCK_TTL = 3 * 3600


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def unreachable() -> str | None:
    """Why the real services cannot be used, or None when they can."""
    if not _reachable(PG_HOST, PG_PORT):
        return f"PostgreSQL at {PG_HOST}:{PG_PORT}"
    if not _reachable("127.0.0.1", 6379):
        return "Redis at 127.0.0.1:6379"
    return None


def _admin_connection() -> psycopg.Connection:
    return psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True
    )


def claim_redis_index() -> int:
    """A Redis database index no other running test session holds (lock keys in db 0)."""
    client = redis.Redis.from_url(f"{REDIS_BASE}/0")
    token = uuid.uuid4().hex
    for index in range(1, 16):
        if client.set(f"stackyard:test-lock:{index}", token, nx=True, ex=LOCK_TTL):
            redis.Redis.from_url(f"{REDIS_BASE}/{index}").flushdb()
            return index
    raise RuntimeError("every Redis database index 1-15 is held by another test run")


def release_redis_index(index: int) -> None:
    redis.Redis.from_url(f"{REDIS_BASE}/{index}").flushdb()
    redis.Redis.from_url(f"{REDIS_BASE}/0").delete(f"stackyard:test-lock:{index}")


def create_database(prefix: str = "stackyard_test") -> str:
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with _admin_connection() as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    with _admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def provision() -> tuple[str, int, Callable[[], None]]:
    """A fresh database URL, a Redis index, and the function that drops both."""
    name = create_database()
    index = claim_redis_index()

    def cleanup() -> None:
        drop_database(name)
        release_redis_index(index)

    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}", index, cleanup
