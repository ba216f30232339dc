"""Live delivery: one stream of every notification, replayed from the database on resume.

Every committed notification is announced on one hub channel. In each process one `FeedRouter`
follows that channel and hands each notification to the connected clients it concerns. The
stream's `seq` is gapless and committed in order (services.py), so the router knows when an
announcement is missing (seq jumped, or the channel dropped it: it also polls the database every
few seconds) and reads what it missed from the database before going on.

A client stream (`ClientStream`) attaches to the router first, then replays from the database
what came after the client's `Last-Event-ID`, then takes live notifications, skipping those at
or below the last one sent: nothing is missed between the two and nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import msgspec

from apps.kernel import db
from apps.kernel.realtime import Hub, decode_event
from apps.notifications.config import NotificationsConfig
from apps.notifications.models import Notification
from apps.notifications.services import NotificationService, Sent, read_model

CHANNEL = "notifications:feed"
REPLAY_BATCH = 200
CATCH_UP_BATCH = 500

logger = logging.getLogger("stackyard.notifications")
_to_builtins = msgspec.to_builtins


class Overflowed(Exception):
    """The client fell too far behind; it should reconnect with its last event id."""


async def announce(hub: Hub, sent: Sent) -> None:
    """Tell every process about a committed notification (call after the commit)."""
    if not sent.created:
        return
    note = sent.notification
    await hub.publish(
        CHANNEL,
        {
            "type": "notification",
            "seq": note.seq,
            "notification": _to_builtins(read_model(note)),
            "held": [str(user_id) for user_id in sent.held],
        },
    )


async def announce_topics(hub: Hub, user_id: UUID) -> None:
    """The user's topic subscriptions changed: their connected clients reload them."""
    await hub.publish(CHANNEL, {"type": "topics", "user_id": str(user_id)})


class Listener:
    """One connected client: what it follows and its bounded queue of notifications."""

    def __init__(self, user_id: UUID, topics: set[str], limit: int) -> None:
        self.user_id = user_id
        self.topics = topics
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=limit)
        self.overflowed = False

    def concerns(self, item: dict[str, Any]) -> bool:
        audience = item.get("audience")
        if audience == "everyone":
            return True
        if audience == "user":
            return item.get("user_id") == str(self.user_id)
        return audience == "topic" and item.get("topic") in self.topics

    def offer(self, item: dict[str, Any]) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflowed = True


async def _load_topics(user_id: UUID) -> set[str]:
    async with db.session() as session:
        return set(await NotificationService(session).topics(user_id))


class FeedRouter:
    """This process's follower of the feed channel; runs while any client is attached."""

    def __init__(self, hub: Hub, config: NotificationsConfig) -> None:
        self.hub = hub
        self.config = config
        self.cursor = 0
        self.listeners: set[Listener] = set()
        self._inbox: asyncio.Queue[bytes] = asyncio.Queue(maxsize=config.router_queue_size)
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._lost = False

    async def attach(self, listener: Listener) -> None:
        """Start delivering to `listener`; returns once the router follows the channel."""
        self.listeners.add(listener)
        if self._task is None or self._task.done():
            self._ready = asyncio.Event()
            self._task = asyncio.create_task(self._run())
        ready = asyncio.create_task(self._ready.wait())
        await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            self.listeners.discard(listener)
            self._task.result()  # raises why the router could not start

    def detach(self, listener: Listener) -> None:
        self.listeners.discard(listener)
        if not self.listeners and self._task is not None:
            self._task.cancel()
            self._task = None

    def _accept(self, data: bytes) -> bool:
        try:
            self._inbox.put_nowait(data)
        except asyncio.QueueFull:
            self._lost = True  # the next poll reads what was dropped from the database
        return True

    async def _run(self) -> None:
        async with self.hub.subscribe(CHANNEL, sink=self._accept) as _:
            async with db.session() as session:
                self.cursor = await NotificationService(session).last_seq()
            self._ready.set()
            while True:
                try:
                    data = await asyncio.wait_for(self._inbox.get(), self.config.poll_interval)
                except TimeoutError:
                    await self._guarded(self._catch_up(None))
                    continue
                await self._guarded(self._handle(decode_event(data)))
                if self._lost:
                    self._lost = False
                    await self._guarded(self._catch_up(None))

    async def _guarded(self, work: Any) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("notification feed: delivery step failed; retrying at next poll")

    async def _handle(self, message: dict[str, Any]) -> None:
        if message.get("type") == "topics":
            user_id = UUID(str(message["user_id"]))
            mine = [lst for lst in self.listeners if lst.user_id == user_id]
            if mine:
                topics = await _load_topics(user_id)
                for listener in mine:
                    listener.topics = set(topics)
            return
        if message.get("type") != "notification":
            return
        seq = int(message["seq"])
        if seq <= self.cursor:
            return  # already delivered (read from the database during a catch-up)
        if seq > self.cursor + 1:
            await self._catch_up(seq - 1)
        self._dispatch(message["notification"], set(message.get("held", ())))
        self.cursor = seq

    async def _catch_up(self, upto: int | None) -> None:
        """Deliver from the database what the channel did not bring (after `cursor`)."""
        while True:
            async with db.session() as session:
                service = NotificationService(session)
                rows: list[Notification] = await service.after(
                    self.cursor, limit=CATCH_UP_BATCH, upto=upto
                )
                held = await service.held_users([n.seq for n in rows]) if rows else {}
            for note in rows:
                item = _to_builtins(read_model(note))
                self._dispatch(item, {str(u) for u in held.get(note.seq, ())})
                self.cursor = note.seq
            if len(rows) < CATCH_UP_BATCH:
                return

    def _dispatch(self, item: dict[str, Any], held: set[str]) -> None:
        for listener in tuple(self.listeners):
            if listener.concerns(item) and str(listener.user_id) not in held:
                listener.offer(item)


_routers: dict[int, FeedRouter] = {}


def router_for(hub: Hub, config: NotificationsConfig | None = None) -> FeedRouter:
    """The router of this hub (one per application and event loop)."""
    found = _routers.get(id(hub))
    if found is None or found.hub is not hub:
        found = _routers[id(hub)] = FeedRouter(hub, config or NotificationsConfig.from_env())
    return found


class ClientStream:
    """One client's notifications: the missed ones from the database, then live ones."""

    def __init__(self, router: FeedRouter, user_id: UUID, limit: int) -> None:
        self.router = router
        self.user_id = user_id
        self.limit = limit
        self.last_seq = 0
        self._listener: Listener | None = None

    @contextlib.asynccontextmanager
    async def open(self) -> AsyncIterator[ClientStream]:
        self._listener = Listener(self.user_id, await _load_topics(self.user_id), self.limit)
        await self.router.attach(self._listener)
        try:
            yield self
        finally:
            self.router.detach(self._listener)

    async def missed(self, after: int) -> AsyncIterator[dict[str, Any]]:
        """What came after `after` for this user, oldest first, in batches from the database."""
        self.last_seq = after
        while True:
            async with db.session() as session:
                batch = await NotificationService(session).replay(
                    self.user_id, after=self.last_seq, limit=REPLAY_BATCH
                )
            for note in batch:
                self.last_seq = note.seq
                yield _to_builtins(note)
            if len(batch) < REPLAY_BATCH:
                return

    async def next(self, idle: float) -> dict[str, Any] | None:
        """The next live notification, or None after `idle` seconds without one.

        Raises Overflowed once the client fell `limit` notifications behind.
        """
        listener = self._listener
        assert listener is not None, "open() the stream first"
        try:
            async with asyncio.timeout(idle):
                while True:
                    if listener.overflowed:
                        raise Overflowed(f"fell {self.limit} notifications behind")
                    item = await listener.queue.get()
                    if int(item["seq"]) > self.last_seq:
                        self.last_seq = int(item["seq"])
                        return item
        except TimeoutError:
            return None
