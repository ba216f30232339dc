"""The Hub: publish/subscribe, history and presence over Litestar channels backends."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from litestar.channels import ChannelsPlugin, Subscriber
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from litestar.channels.subscriber import BacklogStrategy
from litestar.config.app import AppConfig
from litestar.di import Provide
from redis.asyncio import Redis

from apps.kernel.realtime import metrics
from apps.kernel.realtime.config import RealtimeConfig
from apps.kernel.realtime.stores import (
    NODE_ID_LENGTH,
    HistoryStore,
    MemoryHistory,
    MemoryPresence,
    PresenceStore,
    RedisHistory,
    RedisPresence,
)

Event = dict[str, Any]
Sink = Callable[[bytes], bool]
DEDUPE_SECONDS = 5.0

_encode = msgspec.json.Encoder().encode
decode_event: Callable[[bytes], Event] = msgspec.json.Decoder(dict[str, Any]).decode


class _Stamp(msgspec.Struct):
    id: str = ""
    ts: float = 0.0


_decode_stamp = msgspec.json.Decoder(_Stamp).decode


class SlowConsumer(Exception):
    """The subscriber fell `limit` events behind and was dropped; close with 1013."""

    close_code = 1013

    def __init__(self, limit: int) -> None:
        super().__init__(f"slow consumer: fell {limit} events behind")
        self.limit = limit


class Subscription(Subscriber):
    """A consumer of channels: a bounded queue (iterate `events()`) or a synchronous sink.

    When the queue is full, or the sink refuses an event, the subscription is marked
    `overflowed`, stops receiving, and `on_overflow` is called; other subscribers are never
    blocked. The owner then disconnects its client (close code 1013 and the reason).
    """

    def __init__(
        self,
        plugin: ChannelsPlugin,
        max_backlog: int | None = None,
        backlog_strategy: BacklogStrategy = "backoff",
    ) -> None:
        super().__init__(plugin, max_backlog, backlog_strategy)
        self.limit = max_backlog or 0
        self.sink: Sink | None = None
        self.on_overflow: Callable[[Subscription], None] | None = None
        self.overflowed = False
        self._skip_ids: set[str] = set()
        self._skip_until = 0.0

    def configure(
        self,
        limit: int,
        sink: Sink | None = None,
        on_overflow: Callable[[Subscription], None] | None = None,
    ) -> None:
        self.limit = limit
        # The parent's queue, bounded by this subscription's own limit (set before any put).
        self._queue = asyncio.Queue(maxsize=limit)
        self.sink = sink
        self.on_overflow = on_overflow

    def skip(self, ids: Iterable[str]) -> None:
        """Drop live events with these ids for a few seconds (they were sent as history)."""
        self._skip_ids = set(ids)
        self._skip_until = time.monotonic() + DEDUPE_SECONDS

    def put_nowait(self, item: bytes | None) -> bool:
        if self.overflowed:
            return False
        if item is None:
            return super().put_nowait(None)
        if self._skip_ids:
            if time.monotonic() > self._skip_until:
                self._skip_ids.clear()
            elif _decode_stamp(item).id in self._skip_ids:
                return False
        accepted = self.sink(item) if self.sink is not None else super().put_nowait(item)
        if not accepted:
            self._overflow()
        return accepted

    async def put(self, item: bytes | None) -> None:
        if item is not None:
            self.put_nowait(item)
            return
        # Closing: the sentinel must never wait behind a consumer that stopped reading.
        while self._queue.full():
            self._queue.get_nowait()
            self._queue.task_done()
        await self._queue.put(None)

    def _overflow(self) -> None:
        self.overflowed = True
        metrics.DROPPED_SLOW_CONSUMERS.inc()
        if self.on_overflow is not None:
            self.on_overflow(self)

    async def events(self) -> AsyncIterator[bytes]:
        """Encoded events as they arrive; raises SlowConsumer once this subscriber overflowed."""
        while True:
            if self.overflowed:
                raise SlowConsumer(self.limit)
            item = await self._queue.get()
            self._queue.task_done()
            if item is None:
                return
            yield item


class RealtimeChannelsPlugin(ChannelsPlugin):
    """Litestar's ChannelsPlugin with a Hub (`hub` dependency), metrics and bounded fan-out."""

    def __init__(
        self,
        backend: ChannelsBackend,
        hub_factory: Callable[[ChannelsPlugin], Hub],
        *,
        redis: Redis | None = None,
    ) -> None:
        self._redis = redis
        super().__init__(
            backend=backend,
            arbitrary_channels_allowed=True,
            create_ws_route_handlers=False,
            subscriber_class=Subscription,
        )
        self.hub = hub_factory(self)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config = super().on_app_init(app_config)
        app_config.dependencies["hub"] = Provide(
            lambda: self.hub, use_cache=True, sync_to_thread=False
        )
        app_config.signature_namespace.update(Hub=Hub)
        return app_config

    async def _on_startup(self) -> None:
        await super()._on_startup()
        await self.hub.start()

    async def _on_shutdown(self) -> None:
        await self.hub.stop()
        await super()._on_shutdown()
        if self._redis is not None:
            await self._redis.aclose()

    async def _sub_worker(self) -> None:
        # Replaces ChannelsPlugin._sub_worker (litestar 2.x) to count deliveries and time them;
        # tests/kernel/test_realtime.py fails if an upgrade bypasses it.
        async for channel, payload in self._backend.stream_events():
            delivered = 0
            for subscriber in tuple(self._channels.get(channel, ())):
                if subscriber.put_nowait(payload):
                    delivered += 1
            metrics.MESSAGES_OUT.inc(delivered)
            try:
                published = _decode_stamp(payload).ts
            except msgspec.DecodeError:
                continue
            if published:
                metrics.FANOUT_SECONDS.observe(max(0.0, time.time() - published))


class Hub:
    """Channels for one process: see the package docstring for the API and guarantees."""

    def __init__(
        self,
        plugin: ChannelsPlugin,
        *,
        history: HistoryStore,
        presence: PresenceStore,
        config: RealtimeConfig,
    ) -> None:
        self.plugin = plugin
        self.config = config
        self.node = secrets.token_hex(NODE_ID_LENGTH // 2)
        self._history = history
        self._presence = presence
        self._local: Counter[tuple[str, str]] = Counter()
        self._heartbeat: asyncio.Task[None] | None = None

    def _name(self, channel: str) -> str:
        return f"{self.config.namespace}:{channel}"

    # ---- publish / subscribe ------------------------------------------------------------

    async def publish(self, channel: str, event: Mapping[str, Any], *, keep: bool = False) -> Event:
        """Send `event` to every subscriber of `channel` on every process; returns it stamped.

        The event gains `id` and `ts` (epoch seconds) unless it has them. With `keep=True` it
        is also appended to the channel's history (the last `history_size` events).
        """
        stamped: Event = {"id": secrets.token_hex(8), "ts": time.time(), **event}
        data = _encode(stamped)
        if keep:
            await self._history.append(
                self._name(channel),
                data,
                keep=self.config.history_size,
                ttl=self.config.history_ttl,
            )
        await self.plugin.wait_published(data, self._name(channel))
        metrics.MESSAGES_IN.inc()
        return stamped

    @asynccontextmanager
    async def subscribe(
        self,
        channels: str | Iterable[str],
        *,
        history: int = 0,
        max_queue: int | None = None,
        sink: Sink | None = None,
        on_overflow: Callable[[Subscription], None] | None = None,
    ) -> AsyncIterator[tuple[Subscription, list[Event]]]:
        """Subscribe for the block; yields the subscription and up to `history` past events.

        The subscription is live before history is read, and live events already sent as
        history are skipped, so a newcomer sees every event exactly once.
        """
        names = [self._name(c) for c in ([channels] if isinstance(channels, str) else channels)]
        subscription = await self.plugin.subscribe(names)
        assert isinstance(subscription, Subscription), "the plugin must use Subscription"
        subscription.configure(max_queue or self.config.queue_size, sink, on_overflow)
        try:
            past: list[Event] = []
            if history > 0:
                for name in names:
                    kept = await self._history.recent(name, history)
                    past.extend(decode_event(raw) for raw in kept)
                subscription.skip(str(event.get("id", "")) for event in past)
            yield subscription, past
        finally:
            await self.plugin.unsubscribe(subscription, names)

    async def history(self, channel: str, limit: int) -> list[Event]:
        """The last `limit` kept events of `channel`, oldest first."""
        return [decode_event(raw) for raw in await self._history.recent(self._name(channel), limit)]

    # ---- presence -----------------------------------------------------------------------

    def _entry(self, member: str) -> str:
        return f"{self.node}:{member}"

    async def join(self, channel: str, member: str) -> None:
        """Mark `member` present in `channel` until `leave` (or until this process dies)."""
        self._local[(channel, member)] += 1
        await self._presence.refresh(
            [(self._name(channel), self._entry(member))], self.config.presence_ttl
        )

    async def leave(self, channel: str, member: str) -> None:
        key = (channel, member)
        self._local[key] -= 1
        if self._local[key] <= 0:
            del self._local[key]
            await self._presence.remove(self._name(channel), self._entry(member))

    async def members(self, channel: str) -> list[str]:
        """Members present in `channel` on any process, sorted, each once."""
        entries = await self._presence.alive(self._name(channel))
        return sorted({entry[NODE_ID_LENGTH + 1 :] for entry in entries})

    async def heartbeat(self) -> None:
        """Refresh the TTL of every member joined through this process."""
        entries = [(self._name(c), self._entry(m)) for c, m in self._local]
        await self._presence.refresh(entries, self.config.presence_ttl)

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.presence_ttl / 3)
            with contextlib.suppress(Exception):
                await self.heartbeat()

    async def start(self) -> None:
        if self._heartbeat is None:
            self._heartbeat = asyncio.create_task(self._beat_forever())

    async def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        for (channel, member), _ in list(self._local.items()):
            with contextlib.suppress(Exception):
                await self._presence.remove(self._name(channel), self._entry(member))
        self._local.clear()


def _redis_from_url(url: str) -> Redis:
    return Redis.from_url(
        url, decode_responses=False, socket_connect_timeout=2, health_check_interval=30
    )


def build_plugin(
    redis_url: str | None, config: RealtimeConfig | None = None
) -> RealtimeChannelsPlugin:
    """A channels plugin and its Hub: Redis pub/sub + Streams with a URL, memory without."""
    config = config or RealtimeConfig.from_env()
    backend: ChannelsBackend
    client: Redis | None = None
    if redis_url:
        client = _redis_from_url(redis_url)
        backend = RedisChannelsPubSubBackend(redis=client, key_prefix=config.namespace)
        history: HistoryStore = RedisHistory(client, config.namespace)
        presence: PresenceStore = RedisPresence(client, config.namespace)
    else:
        backend = MemoryChannelsBackend(history=0)
        history, presence = MemoryHistory(), MemoryPresence()

    def make_hub(plugin: ChannelsPlugin) -> Hub:
        return Hub(plugin, history=history, presence=presence, config=config)

    return RealtimeChannelsPlugin(backend, make_hub, redis=client)


@asynccontextmanager
async def open_hub(
    redis_url: str | None = None, config: RealtimeConfig | None = None
) -> AsyncIterator[Hub]:
    """A started Hub outside Litestar (CLIs, workers, tests); stopped when the block ends."""
    plugin = build_plugin(redis_url, config)
    async with plugin:
        yield plugin.hub
