"""Helpers of the shortener tests: anonymous clients with their own address, visit flushing."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from typing import Any

LINKS = "/shortener/links"
_addresses = itertools.count(1)


def fresh_ip() -> str:
    """A client address of its own, so anonymous rate limits of other tests do not apply."""
    n = next(_addresses) + uuid.uuid4().int % 50_000
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def anonymous() -> dict[str, str]:
    return {"X-Forwarded-For": fresh_ip()}


def unique_alias(prefix: str = "a") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def create(client: Any, headers: dict[str, str] | None = None, **body: Any) -> dict[str, Any]:
    body.setdefault("url", f"https://example.com/{uuid.uuid4().hex}")
    response = client.post(LINKS, json=body, headers=headers or anonymous())
    assert response.status_code == 201, response.text
    return response.json()


def flush_visits() -> int:
    """Run what beat runs: move the Redis visit buffer into the database counters."""
    from apps.kernel import db
    from apps.kernel.cache import close_redis, get_redis
    from apps.shortener.visits import flush_buffer

    async def run() -> int:
        try:
            return await flush_buffer(get_redis(), db.session)
        finally:
            await close_redis()
            await db.dispose_engines()

    return asyncio.run(run())


def stats_when(client: Any, code: str, total: int, headers: dict[str, str] | None = None) -> dict:
    """The stats of `code` once `total` visits reached the counters (pushed, then flushed)."""
    deadline = time.monotonic() + 10
    while True:
        flush_visits()
        response = client.get(f"{LINKS}/{code}/stats", headers=headers or {})
        assert response.status_code == 200, response.text
        body = response.json()
        if body["total_visits"] >= total or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def follow(client: Any, code: str, **headers: str) -> Any:
    """GET /<code> without following the redirect."""
    return client.get(f"/{code}", headers=headers, follow_redirects=False)
