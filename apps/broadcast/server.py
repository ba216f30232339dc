"""The broadcast server: websockets on any path, fan-out through the kernel realtime Hub.

Each client's frames are written straight into its socket by the Hub's fan-out (the same
write `websockets.broadcast()` does), unless its unsent bytes pass `max_buffer`: then it is a
slow consumer, closed with 1013, and nobody else waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from apps.broadcast.protocol import SERVER_NAME, name_from_path
from apps.kernel.realtime import Hub, RealtimeConfig, Subscription, open_hub
from apps.kernel.realtime.metrics import MESSAGES_OUT, connected_client

GOING_AWAY = 1001
UNSUPPORTED_DATA = 1003
TRY_AGAIN_LATER = 1013


@dataclass(frozen=True)
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 8765
    redis_url: str | None = None
    history: int = 50
    channel: str = "broadcast"
    grace: float = 2.0
    """Seconds clients get to answer the going-away close before they are cut off."""
    ping_interval: float = 20.0
    ping_timeout: float = 20.0
    max_buffer: int = 1 << 20
    """Unsent bytes a client may have before it is dropped as a slow consumer."""
    max_message: int = 64 * 1024


class BroadcastRoom:
    """One channel of the Hub, shared by every connection of this process."""

    def __init__(self, hub: Hub, options: ServerOptions) -> None:
        self.hub = hub
        self.options = options
        self._closing: set[asyncio.Task[None]] = set()

    async def handle(self, connection: ServerConnection) -> None:
        name = name_from_path(connection.request.path if connection.request else "/")
        options = self.options
        write, release = self._writer(connection)
        with connected_client():
            async with self.hub.subscribe(
                options.channel,
                history=options.history,
                sink=write,
                on_overflow=lambda subscription: self._drop(connection, subscription),
            ) as (_subscription, past):
                release([{**event, "type": "history"} for event in past])
                await self.hub.join(options.channel, name)
                try:
                    await self._announce("join", name)
                    await self._relay(connection, name)
                finally:
                    await self.hub.leave(options.channel, name)
                    with contextlib.suppress(Exception):
                        await self._announce("leave", name)

    def _writer(
        self, connection: ServerConnection
    ) -> tuple[Callable[[bytes], bool], Callable[[list[dict[str, Any]]], None]]:
        """A sink for the Hub and the function that opens it after the history is written."""
        early: list[bytes] | None = []
        limit = self.options.max_buffer
        transport = connection.transport

        def write(data: bytes) -> bool:
            if early is not None:
                early.append(data)
                return True
            if connection.protocol.state is not State.OPEN:
                return True
            if transport.get_write_buffer_size() > limit:
                return False
            broadcast((connection,), data, text=True)
            return True

        def release(history: list[dict[str, Any]]) -> None:
            nonlocal early
            pending, early = early or [], None
            for event in history:
                write(json.dumps(event).encode())
            for data in pending:
                write(data)
            MESSAGES_OUT.inc(len(history))

        return write, release

    def _drop(self, connection: ServerConnection, subscription: Subscription) -> None:
        reason = f"slow consumer: more than {self.options.max_buffer} bytes unsent"
        task = asyncio.get_running_loop().create_task(connection.close(TRY_AGAIN_LATER, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _announce(self, kind: str, name: str) -> None:
        verb = "joined" if kind == "join" else "left"
        await self.hub.publish(
            self.options.channel, {"type": kind, "from": name, "text": f"{name} {verb}"}
        )

    async def _relay(self, connection: ServerConnection, name: str) -> None:
        channel = self.options.channel
        try:
            async for frame in connection:
                if not isinstance(frame, str):
                    await connection.close(UNSUPPORTED_DATA, "send text frames")
                    return
                if frame.strip() == "/who":
                    members = await self.hub.members(channel)
                    await connection.send(_server_line(f"online: {', '.join(members)}"))
                    continue
                event = {"type": "message", "from": name, "text": frame}
                await self.hub.publish(channel, event, keep=self.options.history > 0)
        except ConnectionClosed:
            return


def _server_line(text: str) -> str:
    return json.dumps({"type": "message", "from": SERVER_NAME, "text": text, "ts": time.time()})


async def run_server(
    options: ServerOptions,
    *,
    on_ready: Callable[[str], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM (or `stop`), then close every client with 1001 and return."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    if threading.current_thread() is threading.main_thread():
        # Signal handlers belong to the main thread; embedded in a test or another program's
        # thread, the caller stops the server through `stop` instead.
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    config = RealtimeConfig.from_env()
    async with open_hub(options.redis_url, config) as hub:
        room = BroadcastRoom(hub, options)
        server = await serve(
            room.handle,
            options.host,
            options.port,
            ping_interval=options.ping_interval,
            ping_timeout=options.ping_timeout,
            close_timeout=options.grace,
            max_size=options.max_message,
            # Chat lines are short, and deflate would run once per client per message.
            compression=None,
        )
        host, port = server.sockets[0].getsockname()[:2] if server.sockets else (options.host, 0)
        url = f"ws://{host}:{port}/"
        (on_ready or _print_ready)(url)
        await stop.wait()
        await _shut_down(server, options.grace)


def _print_ready(url: str) -> None:
    print(f"listening on {url}", flush=True)


async def _shut_down(server: Server, grace: float) -> None:
    """Going-away close (1001) to everyone; whoever has not answered within `grace` is cut."""
    server.close(close_connections=True)
    try:
        await asyncio.wait_for(server.wait_closed(), timeout=grace)
    except TimeoutError:
        for connection in list(server.connections):
            connection.transport.abort()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), timeout=1)
    print("stopped", file=sys.stderr, flush=True)
