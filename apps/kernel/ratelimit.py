"""Sliding-window rate limits in Redis, shared by every app and every server process."""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass

from redis.asyncio import Redis

# A sliding-window log: one sorted-set member per hit, scored by its time in ms.
# Atomic in Redis, so several server processes share one limit.
_SLIDING_WINDOW = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local member = ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {0, count, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', key, now, member)
redis.call('PEXPIRE', key, window)
return {1, count + 1, 0}
"""


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    count: int
    retry_after: int
    """Seconds until one more hit would be allowed (0 when allowed)."""


class RateLimiter:
    """At most `limit` hits per `window` seconds for each key."""

    def __init__(self, redis: Redis, prefix: str, *, limit: int, window: float) -> None:
        self._redis = redis
        self._prefix = prefix
        self.limit = limit
        self.window_ms = int(window * 1000)

    async def hit(self, key: str) -> RateDecision:
        """Count one hit for `key` unless the limit is reached."""
        now = int(time.time() * 1000)
        allowed, count, wait_ms = await self._redis.eval(  # type: ignore[misc]
            _SLIDING_WINDOW,
            1,
            f"{self._prefix}:{key}",
            now,
            self.window_ms,
            self.limit,
            f"{now}-{uuid.uuid4().hex[:8]}",
        )
        return RateDecision(
            bool(allowed), int(count), max(1, math.ceil(int(wait_ms) / 1000)) if not allowed else 0
        )

    async def peek(self, key: str) -> RateDecision:
        """Whether one more hit would be allowed, without counting one."""
        now = int(time.time() * 1000)
        name = f"{self._prefix}:{key}"
        await self._redis.zremrangebyscore(name, "-inf", now - self.window_ms)
        entries = await self._redis.zrange(name, 0, 0, withscores=True)
        count = await self._redis.zcard(name)
        if count < self.limit or not entries:
            return RateDecision(True, count, 0)
        wait_ms = int(entries[0][1]) + self.window_ms - now
        return RateDecision(False, count, max(1, math.ceil(wait_ms / 1000)))

    async def reset(self, key: str) -> None:
        await self._redis.delete(f"{self._prefix}:{key}")
