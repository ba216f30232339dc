"""An in-process mirror of the token deny-list, so checking a request costs no Redis round trip.

Revocations are rare and checks are constant. Writers (`deny`) set `auth:deny:*` with its TTL
and publish it on the channel in one transaction; each event loop keeps a mirror (key -> expiry)
that subscribes first, then scans the existing keys, then applies what is published.

Consistency: a revocation is seen by the process that made it at once (the writer adds it to
its own loop's mirror; a server process runs one loop), and by every other process within the
pub/sub delivery delay, milliseconds. While a mirror is not synced (starting, its subscription
lost, Redis down) checks fall back to one EXISTS per request, as before the mirror existed; a
lost subscription is retried every `DenyListMirror.resync_after` seconds, subscribing before
rescanning so that nothing published in between is missed. Keys written to Redis by anything
but `deny` (no publish) reach running mirrors only at their next resync.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
from time import monotonic

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from apps.kernel import cache
from apps.kernel.settings import Settings, get_settings

# Every key of auth.deny_key_for_token / auth.deny_key_for_session.
DENY_KEY_PATTERN = "auth:deny:*"
CHANNEL = "auth:deny"
logger = logging.getLogger("stackyard.auth")


def channel_of(redis: Redis) -> str:
    """The revocation channel of `redis`'s database: pub/sub ignores the database index."""
    return f"{CHANNEL}@{redis.connection_pool.connection_kwargs.get('db', 0)}"


class DenyListMirror:
    """The deny-list of one Redis database, followed by a task of the running loop."""

    resync_after: float = 1.0
    """Seconds between attempts to re-subscribe after the subscription is lost."""
    heartbeat: float = 5.0
    """A quiet subscription is PINGed this often; one unanswered for longer counts as lost."""
    prune_every: float = 60.0

    def __init__(self, redis: Redis) -> None:
        # Its own client, without silent reconnects: a broken subscription must surface here.
        self._redis = redis
        self._redis.set_retry(Retry(NoBackoff(), 0))
        self._expiries: dict[str, float] = {}
        self._next_prune = monotonic() + self.prune_every
        self._task: asyncio.Task[None] | None = None
        self._lost = False
        self.channel = channel_of(redis)
        self.synced = False

    def __contains__(self, key: str) -> bool:
        """Whether `key` is held, expired or not: expired entries stay until the next prune."""
        return key in self._expiries

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self._task.get_loop() if self._task else None

    def check(self, keys: Sequence[str]) -> bool | None:
        """Whether any key is denied; None while unsynced (ask Redis instead)."""
        if not self.synced:
            return None
        if not self._expiries:  # the usual case: nothing revoked lately
            return False
        now = monotonic()
        return any(self._expiries.get(key, 0.0) > now for key in keys)

    def add(self, key: str, ttl: float) -> None:
        """Deny `key` for `ttl` seconds (math.inf: until the key is gone at a resync)."""
        now = monotonic()
        self._expiries[key] = max(self._expiries.get(key, 0.0), now + ttl)
        if now >= self._next_prune:
            self._next_prune = now + self.prune_every
            for expired in [k for k, expiry in self._expiries.items() if expiry <= now]:
                del self._expiries[expired]

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="deny-list mirror")

    async def stop(self) -> None:
        while self._task is not None and not self._task.done():
            self._task.cancel()  # again if a library swallowed it: see _cancel_requested
            await asyncio.wait({self._task}, timeout=0.1)
        await self._redis.aclose()

    async def _run(self) -> None:
        while not _cancel_requested():
            try:
                await self._follow()
            except Exception as exc:  # not only RedisError: a bug must not end the task either
                if not self._lost:
                    logger.warning(
                        "token deny-list mirror lost its subscription (%r); "
                        "checking Redis per request until it resyncs",
                        exc,
                        exc_info=not isinstance(exc, RedisError),
                    )
                self._lost = True
            await asyncio.sleep(self.resync_after)

    async def _follow(self) -> None:
        """Subscribe, rescan at each subscription, then apply messages until the link breaks."""
        loop = asyncio.get_running_loop()
        try:
            async with self._redis.pubsub() as pubsub:
                await pubsub.subscribe(self.channel)
                heard = loop.time()
                while not _cancel_requested():
                    message = await pubsub.get_message(timeout=self.heartbeat)
                    if message is None:
                        if loop.time() - heard > 1.5 * self.heartbeat:
                            raise RedisConnectionError("no answer on the deny-list subscription")
                        await pubsub.ping()
                        continue
                    if message["type"] == "subscribe":
                        await self._scan()
                        self._mark_synced()
                    elif message["type"] == "message":
                        self._learn(message["data"])
                    heard = loop.time()
        finally:
            self.synced = False

    async def _scan(self) -> None:
        keys = [key async for key in self._redis.scan_iter(match=DENY_KEY_PATTERN, count=1000)]
        for start in range(0, len(keys), 1000):
            batch = keys[start : start + 1000]
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in batch:
                    pipe.pttl(key)
                ttls = await pipe.execute()
            for key, ttl in zip(batch, ttls, strict=True):
                if ttl == -1 or ttl > 0:  # -1: no expiry; -2: gone meanwhile
                    self.add(key, math.inf if ttl == -1 else ttl / 1000)

    def _learn(self, data: str) -> None:
        key, _, ttl = data.rpartition(" ")
        try:
            self.add(key, float(ttl))
        except ValueError:
            logger.warning("ignoring malformed deny-list message %r", data)

    def _mark_synced(self) -> None:
        self.synced = True
        if self._lost:
            logger.info("token deny-list mirror resynced; checks are local again")
            self._lost = False


def _cancel_requested() -> bool:
    """True once this task is cancelled, even if a library swallowed the CancelledError.

    On Python 3.11, `asyncio.wait_for` (fakeredis, redis-py) loses a cancel that lands just as
    the read it guards completes (python/cpython#86296); the task must still end.
    """
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


_mirrors: dict[tuple[str | None, int], DenyListMirror] = {}


def current_mirror(settings: Settings | None = None) -> DenyListMirror:
    """The running loop's mirror, started on first use."""
    settings = settings or get_settings()
    loop = asyncio.get_running_loop()
    key = (settings.redis_url, id(loop))
    mirror = _mirrors.get(key)
    if mirror is None or mirror.loop is not loop:  # None, or left by an ended loop of that id
        mirror = _mirrors[key] = DenyListMirror(cache.create_redis(settings))
        mirror.start()
    return mirror


async def stop_mirror() -> None:
    """Stop the running loop's mirror (cache.close_redis calls this before the loop ends)."""
    loop = asyncio.get_running_loop()
    for key in [k for k in _mirrors if k[1] == id(loop)]:
        mirror = _mirrors.pop(key)
        if mirror.loop is loop:  # else an ended loop's, whose task ended with it
            await mirror.stop()


cache.on_close(stop_mirror)


async def is_denied(keys: Sequence[str]) -> bool:
    """Whether any key is deny-listed: from the mirror once synced, else one EXISTS round trip.

    Raises RedisError when it has to ask Redis and cannot.
    """
    known = current_mirror().check(keys)
    if known is not None:
        return known
    return bool(await cache.get_redis().exists(*keys))


async def deny(redis: Redis, key: str, ttl: int) -> None:
    """Deny-list `key` for `ttl` seconds: in Redis and on the channel at once, and locally."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(key, "1", ex=ttl)
        pipe.publish(channel_of(redis), f"{key} {ttl}")
        await pipe.execute()
    loop = asyncio.get_running_loop()
    for mirror in list(_mirrors.values()):
        if mirror.loop is loop:
            mirror.add(key, ttl)
