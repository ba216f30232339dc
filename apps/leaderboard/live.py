"""Live top-N pushes through the kernel's channels plugin, at most 10 per second per game.

Every process marks games whose top changed; every 100 ms it tries to take the game's turn
(`SET lb:live:<game>:turn NX PX 100`, shared by all processes through Redis), reads the top
from Redis and publishes it only if it differs from the last top published by anyone. So
subscribers on every process get each change (trailing edge), never more than 10 pushes a
second, and no duplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from uuid import UUID

import msgspec
from litestar.channels import ChannelsPlugin
from prometheus_client import Gauge
from redis.exceptions import RedisError

from apps.kernel.cache import on_close
from apps.kernel.errors import ServiceUnavailable
from apps.leaderboard import boards, services
from apps.leaderboard.schemas import BoardRow
from apps.leaderboard.services import BoardReader, GameSnapshot
from apps.leaderboard.submissions import LIVE_TOP, LiveNotifier

INTERVAL = 0.1

LIVE_CLIENTS = Gauge(
    "stackyard_leaderboard_live_clients",
    "WebSocket clients following a live top",
    multiprocess_mode="livesum",
)


class TopMessage(msgspec.Struct):
    type: str
    game: str
    total: int
    items: list[BoardRow]


_encode = msgspec.json.Encoder().encode


def channel_of(game: GameSnapshot) -> str:
    return f"leaderboard:{game.id.hex}:top"


async def top_message(game: GameSnapshot) -> bytes:
    """The game's current top as the message subscribers receive (raises 503 without Redis)."""
    ref = services.BoardRef(boards.board_base(game.id.hex), game.index.sign, "all")
    rows, total = await BoardReader(services.index_redis()).top(ref, limit=LIVE_TOP, offset=0)
    return _encode(TopMessage(type="top", game=game.slug, total=total, items=rows))


class LivePublisher(LiveNotifier):
    """Publishes the changed tops of one process (see the module docstring)."""

    def __init__(self, channels: ChannelsPlugin) -> None:
        self.channels = channels
        self.dirty: dict[UUID, GameSnapshot] = {}
        self.task: asyncio.Task[None] | None = None

    def changed(self, game: GameSnapshot) -> None:
        self.dirty[game.id] = game
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            while self.dirty:
                await asyncio.sleep(INTERVAL)
                for game in list(self.dirty.values()):
                    if await self.publish(game):
                        self.dirty.pop(game.id, None)
        finally:
            self.task = None

    async def publish(self, game: GameSnapshot) -> bool:
        """Publish the game's top if it is our turn; False when another process has it."""
        redis = services.index_redis()
        prefix = f"lb:live:{game.id.hex}"
        try:
            async with asyncio.timeout(boards.INDEX_TIMEOUT):
                if not await redis.set(f"{prefix}:turn", "1", nx=True, px=int(INTERVAL * 1000)):
                    return False
                message = await top_message(game)
                digest = hashlib.sha1(message, usedforsecurity=False).hexdigest()
                previous = await redis.set(f"{prefix}:digest", digest, get=True, ex=3600)
        except (RedisError, OSError, ServiceUnavailable):
            return True  # the index is unreachable: nothing to push until it is back
        if previous != digest:
            try:
                self.channels.publish(message, [channel_of(game)])
            except RuntimeError:
                # The channels plugin has stopped: the application is shutting down (its
                # lifespan stops plugins before the shutdown hooks that cancel this task).
                self.dirty.clear()
        return True

    async def stop(self) -> None:
        """Cancel the pending push, if this loop runs one."""
        task = self.task
        if task is not None and task.get_loop() is asyncio.get_running_loop():
            self.dirty.clear()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self.task = None  # a task cancelled before it first ran never reached its finally


_publishers: dict[int, LivePublisher] = {}


def publisher(channels: ChannelsPlugin) -> LivePublisher:
    """The publisher of this channels plugin (one per application)."""
    found = _publishers.get(id(channels))
    if found is None or found.channels is not channels:
        found = _publishers[id(channels)] = LivePublisher(channels)
    return found


async def _stop_publishers() -> None:
    for found in list(_publishers.values()):
        await found.stop()


on_close(_stop_publishers)
