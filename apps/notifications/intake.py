"""Notifications other apps send through the kernel event bus (topic `notifications.send`).

The payload is a `NotificationCreate` object. Each event is stored once (keyed by its `key`,
else by the bus event id, so the bus's redeliveries change nothing) and announced live. The
consumer runs in a thread of the serving process, started with the app's first request or
stream; a payload that is not a valid notification is buried in the dead-letter queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

import msgspec

from apps.kernel import db, events
from apps.kernel.errors import DomainError
from apps.kernel.realtime import Hub
from apps.notifications.feed import announce
from apps.notifications.schemas import NotificationCreate
from apps.notifications.services import NotificationService, Sent

GROUP = "notifications"
SEND_TOPIC = "notifications.send"
HANDLER_TIMEOUT = 30.0

logger = logging.getLogger("stackyard.notifications")
events.declare_group(GROUP, [SEND_TOPIC])


async def receive(hub: Hub, event: events.BusEvent) -> Sent:
    """Store and announce the notification an event carries (idempotent per event)."""
    try:
        data = msgspec.convert(event.payload, NotificationCreate)
    except msgspec.ValidationError as exc:
        raise events.Reject(f"not a notification: {exc}") from None
    if data.key is None:
        data = msgspec.structs.replace(data, key=f"bus:{event.id}")
    try:
        async with db.session() as session:
            sent = await NotificationService(session).send(data, sender=f"bus:{event.topic}")
    except DomainError as exc:
        raise events.Reject(f"{exc.field or 'payload'}: {exc.detail}") from None
    await announce(hub, sent)
    return sent


class Intake:
    """The bus consumer of one event loop (one serving application)."""

    def __init__(self, hub: Hub, loop: asyncio.AbstractEventLoop) -> None:
        self.hub = hub
        self.loop = loop
        self.consumer = events.get_bus().consumer(GROUP, [SEND_TOPIC], self._handle)

    def _handle(self, event: events.BusEvent) -> None:
        if self.loop.is_closed():
            self.consumer.should_stop = True
            raise RuntimeError("the serving event loop is gone; the event is handed back")
        future = asyncio.run_coroutine_threadsafe(receive(self.hub, event), self.loop)
        future.result(HANDLER_TIMEOUT)


_intakes: dict[int, Intake] = {}
_lock = threading.Lock()


async def ensure_intake(hub: Hub) -> None:
    """Start consuming the bus in this process (once per event loop); never fails a request."""
    loop = asyncio.get_running_loop()
    with _lock:
        intake = _intakes.get(id(loop))
        if intake is not None and intake.loop is loop:
            return
        intake = _intakes[id(loop)] = Intake(hub, loop)
    try:
        await asyncio.to_thread(intake.consumer.start)
    except Exception:
        logger.exception("notifications: cannot consume the event bus; will retry")
        with _lock:
            _intakes.pop(id(loop), None)
        with contextlib.suppress(Exception):
            intake.consumer.stop(timeout=0.1)
