"""Relay a Litestar WebSocket to a Hub channel: bounded queue, keepalive, presence."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import WebSocket
from litestar.exceptions import WebSocketDisconnect

from apps.kernel.realtime import metrics
from apps.kernel.realtime.hub import Event, Hub, Subscription

OnText = Callable[[str], Awaitable[None]]
GOING_AWAY = 1001
KEEPALIVE_TIMEOUT = 1011
TRY_AGAIN_LATER = 1013
INTERNAL_ERROR = 1011


async def relay(
    socket: WebSocket[Any, Any, Any],
    hub: Hub,
    channel: str,
    *,
    member: str | None = None,
    history: int = 0,
    subprotocol: str | None = None,
    on_text: OnText | None = None,
) -> None:
    """Accept `socket` and send it `channel`'s events (JSON text frames) until it leaves.

    Text frames from the client go to `on_text`; `{"type": "pong"}` answers the server's
    `{"type": "ping"}` sent every `ping_interval`. A client silent for longer than
    ping_interval + ping_timeout is closed with 1011; one that falls `queue_size` events
    behind is closed with 1013 and the reason, without slowing anyone else.
    """
    await socket.accept(subprotocols=subprotocol)
    with metrics.connected_client():
        async with hub.subscribe(channel, history=history) as (subscription, past):
            if member is not None:
                await hub.join(channel, member)
            try:
                code, reason = await _run(socket, hub, subscription, past, on_text)
            finally:
                if member is not None:
                    await hub.leave(channel, member)
    if code is not None:
        with contextlib.suppress(Exception):
            await socket.close(code=code, reason=reason)


async def _run(
    socket: WebSocket[Any, Any, Any],
    hub: Hub,
    subscription: Subscription,
    past: list[Event],
    on_text: OnText | None,
) -> tuple[int | None, str]:
    config = hub.config
    last_heard = time.monotonic()

    async def send() -> None:
        for event in past:
            await socket.send_text(json.dumps(event))
        async for data in subscription.events():
            await socket.send_text(data.decode())

    async def receive() -> None:
        nonlocal last_heard
        while True:
            text = await socket.receive_text()
            last_heard = time.monotonic()
            if _is_pong(text):
                continue
            if on_text is not None:
                await on_text(text)

    async def keepalive() -> None:
        while True:
            await asyncio.sleep(config.ping_interval)
            if time.monotonic() - last_heard > config.ping_interval + config.ping_timeout:
                return
            await socket.send_text(json.dumps({"type": "ping", "ts": time.time()}))

    sender = asyncio.create_task(send())
    receiver = asyncio.create_task(receive())
    pinger = asyncio.create_task(keepalive())

    def cut_off(_: Subscription) -> None:
        sender.cancel()

    subscription.on_overflow = cut_off
    tasks = {sender, receiver, pinger}
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if subscription.overflowed:
        return TRY_AGAIN_LATER, f"slow consumer: fell {subscription.limit} events behind"
    if pinger.done() and not pinger.cancelled() and pinger.exception() is None:
        return KEEPALIVE_TIMEOUT, "keepalive timeout"
    if receiver.done() and not receiver.cancelled():
        if isinstance(receiver.exception(), WebSocketDisconnect):
            return None, ""
        return KEEPALIVE_TIMEOUT if receiver.exception() is None else INTERNAL_ERROR, ""
    return GOING_AWAY, ""


def _is_pong(text: str) -> bool:
    if len(text) > 40 or "pong" not in text:
        return False
    try:
        return json.loads(text) == {"type": "pong"}
    except ValueError:
        return False
