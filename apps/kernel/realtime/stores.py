"""Presence and history stores: Redis (sorted sets, Streams) with REDIS_URL, memory embedded.

Presence entries are `<node>:<member>` with their expiry as score, so each process owns and
refreshes its own entries and a crashed process's members vanish after the TTL. History is
one Redis Stream per channel (XADD MAXLEN ~, read back with XREVRANGE), or a deque embedded.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Iterable
from typing import Protocol

from redis.asyncio import Redis

NODE_ID_LENGTH = 12


class PresenceStore(Protocol):
    async def refresh(self, entries: Iterable[tuple[str, str]], ttl: float) -> None:
        """Mark `(channel, node:member)` entries alive for `ttl` more seconds."""

    async def remove(self, channel: str, entry: str) -> None: ...

    async def alive(self, channel: str) -> list[str]:
        """The unexpired `node:member` entries of `channel`."""


class HistoryStore(Protocol):
    async def append(self, channel: str, data: bytes, *, keep: int, ttl: float) -> None: ...

    async def recent(self, channel: str, limit: int) -> list[bytes]:
        """The last `limit` events of `channel`, oldest first."""


class MemoryPresence:
    def __init__(self) -> None:
        self._entries: defaultdict[str, dict[str, float]] = defaultdict(dict)

    async def refresh(self, entries: Iterable[tuple[str, str]], ttl: float) -> None:
        expires = time.time() + ttl
        for channel, entry in entries:
            self._entries[channel][entry] = expires

    async def remove(self, channel: str, entry: str) -> None:
        self._entries[channel].pop(entry, None)

    async def alive(self, channel: str) -> list[str]:
        now = time.time()
        members = self._entries[channel]
        for entry in [e for e, expires in members.items() if expires <= now]:
            del members[entry]
        return sorted(members)


class RedisPresence:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    def _key(self, channel: str) -> str:
        return f"{self._prefix}:presence:{channel}"

    async def refresh(self, entries: Iterable[tuple[str, str]], ttl: float) -> None:
        expires = time.time() + ttl
        by_channel: defaultdict[str, dict[str, float]] = defaultdict(dict)
        for channel, entry in entries:
            by_channel[channel][entry] = expires
        if not by_channel:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for channel, members in by_channel.items():
                pipe.zadd(self._key(channel), members)  # type: ignore[arg-type]
                pipe.expire(self._key(channel), max(1, int(ttl * 2) + 1))
            await pipe.execute()

    async def remove(self, channel: str, entry: str) -> None:
        await self._redis.zrem(self._key(channel), entry)

    async def alive(self, channel: str) -> list[str]:
        now = time.time()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(self._key(channel), "-inf", now)
            pipe.zrangebyscore(self._key(channel), now, "+inf")
            _, members = await pipe.execute()
        return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)


class MemoryHistory:
    def __init__(self) -> None:
        self._events: dict[str, deque[bytes]] = {}

    async def append(self, channel: str, data: bytes, *, keep: int, ttl: float) -> None:
        events = self._events.get(channel)
        if events is None or events.maxlen != keep:
            events = self._events[channel] = deque(events or (), maxlen=keep)
        events.append(data)

    async def recent(self, channel: str, limit: int) -> list[bytes]:
        if limit <= 0:
            return []
        return list(self._events.get(channel, ()))[-limit:]


class RedisHistory:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    def _key(self, channel: str) -> str:
        return f"{self._prefix}:history:{channel}"

    async def append(self, channel: str, data: bytes, *, keep: int, ttl: float) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xadd(self._key(channel), {"data": data}, maxlen=keep, approximate=True)
            pipe.pexpire(self._key(channel), int(ttl * 1000))
            await pipe.execute()

    async def recent(self, channel: str, limit: int) -> list[bytes]:
        if limit <= 0:
            return []
        entries = await self._redis.xrevrange(self._key(channel), count=limit) or []
        # The client is created with decode_responses=False: stream fields are bytes.
        return [fields[b"data"] for _, fields in reversed(entries) if fields]  # type: ignore[misc]
