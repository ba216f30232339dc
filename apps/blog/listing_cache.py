"""An in-process cache of public blog listings, invalidated through one Redis counter.

Public pages (published articles, tag counts) are the same for every reader, and counting
10,000 rows on each request costs more than the rest of the request. Every write bumps the
`blog:generation` counter in Redis after its commit; a reader reads the counter first and only
reuses what was stored under the same generation, so every server process drops stale pages at
the next request after any write. If Redis is unreachable the cache is simply bypassed.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

GENERATION_KEY = "blog:generation"

logger = logging.getLogger("stackyard.blog")


class ListingCache:
    """Least-recently-used pages keyed by (database, generation, query), with a TTL backstop."""

    def __init__(self, *, max_entries: int = 1024, ttl_seconds: float = 60.0) -> None:
        self.max_entries = max_entries
        self.ttl_seconds = ttl_seconds
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()

    async def key(self, redis: Redis, *parts: Hashable) -> Hashable | None:
        """The cache key for `parts` at the current generation; None when Redis cannot say."""
        try:
            generation = await redis.get(GENERATION_KEY)
        except (RedisError, OSError) as exc:
            logger.warning("blog listing cache bypassed: %s", exc)
            return None
        return (generation or "0", *parts)

    def get(self, key: Hashable | None) -> Any | None:
        if key is None:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, value = entry
        if time.monotonic() - stored_at > self.ttl_seconds:
            self._entries.pop(key, None)
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: Hashable | None, value: Any) -> None:
        if key is None:
            return
        self._entries[key] = (time.monotonic(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def invalidate(self, redis: Redis) -> None:
        """Call after a committed write: every process stops serving older pages."""
        self._entries.clear()
        try:
            await redis.incr(GENERATION_KEY)
        except (RedisError, OSError) as exc:
            # Other processes keep their pages until the TTL; this one has already dropped its.
            logger.warning("blog listing cache not invalidated in Redis: %s", exc)

    def __len__(self) -> int:
        return len(self._entries)


listings = ListingCache()
"""The process's cache of public listings."""
