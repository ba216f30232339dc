"""The terminal client: prints the room as it happens while you type; reconnects with backoff.

On a terminal it uses prompt_toolkit (incoming lines are printed above the prompt); with
piped input it reads lines and prints plainly. Ctrl-D, Ctrl-C or the end of input exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from apps.broadcast.protocol import render

NORMAL_CLOSURE = 1000


class BadURL(ValueError):
    """The --url is not a ws:// or wss:// URL."""


@dataclass(frozen=True)
class ClientOptions:
    url: str = "ws://127.0.0.1:8765/"
    name: str | None = None
    backoff_initial: float = 0.5
    backoff_max: float = 10.0
    open_timeout: float = 5.0
    ping_interval: float = 20.0
    ping_timeout: float = 20.0


def url_with_name(url: str, name: str | None) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"ws", "wss"} or not parts.hostname:
        raise BadURL(f"{url!r} is not a ws:// or wss:// URL")
    if not name:
        return url
    query = "&".join(q for q in (parts.query, urlencode({"name": name})) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))


class Room:
    """The client's side of one room: the current connection, and what it prints."""

    def __init__(self, options: ClientOptions, show: Callable[[str], None]) -> None:
        self.options = options
        self.show = show
        self.connection: ClientConnection | None = None
        self.connected = asyncio.Event()

    async def listen_forever(self) -> None:
        """Stay connected: print every frame; after a drop, retry with capped, jittered backoff."""
        delay = self.options.backoff_initial
        target = url_with_name(self.options.url, self.options.name)
        while True:
            try:
                async with connect(
                    target,
                    open_timeout=self.options.open_timeout,
                    ping_interval=self.options.ping_interval,
                    ping_timeout=self.options.ping_timeout,
                    close_timeout=2,
                ) as connection:
                    self.connection = connection
                    self.connected.set()
                    self.show(f"* connected to {self.options.url}")
                    delay = self.options.backoff_initial
                    async for frame in connection:
                        self.show(_line(frame))
                reason = _closed_reason(connection)
            except (OSError, TimeoutError, InvalidHandshake) as exc:
                reason = f"cannot connect ({type(exc).__name__}: {exc})"
            except ConnectionClosed as exc:
                reason = f"connection lost ({exc})"
            finally:
                self.connection = None
                self.connected.clear()
            wait = delay * random.uniform(0.8, 1.2)
            self.show(f"* {reason}; reconnecting in {wait:.1f} s")
            await asyncio.sleep(wait)
            delay = min(delay * 2, self.options.backoff_max)

    async def say(self, text: str) -> None:
        if not text:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), self.options.open_timeout)
        connection = self.connection
        if connection is None:
            self.show("* not connected: message not sent")
            return
        try:
            await connection.send(text)
        except ConnectionClosed:
            self.show("* connection lost: message not sent")

    async def leave(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.close(NORMAL_CLOSURE, "bye")


def _closed_reason(connection: ClientConnection) -> str:
    code = connection.close_code
    if code is None or code == 1006:
        return "connection lost"
    detail = f": {connection.close_reason}" if connection.close_reason else ""
    return f"server closed the connection ({code}{detail})"


def _line(frame: str | bytes) -> str:
    try:
        event: Any = json.loads(frame)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        return render({"type": "message", "from": "?", "text": str(frame)})
    return render(event)


async def run_client(options: ClientOptions, *, interactive: bool | None = None) -> int:
    """Run until Ctrl-D/Ctrl-C or end of input; the exit status (0)."""
    url_with_name(options.url, options.name)  # refuse a bad URL before anything starts
    if interactive is None:
        interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if interactive:
        return await _interactive(options)
    return await _piped(options)


async def _session(
    options: ClientOptions, show: Callable[[str], None], read: Callable[[], Awaitable[str]]
) -> int:
    room = Room(options, show)
    listener = asyncio.create_task(room.listen_forever())
    try:
        while True:
            try:
                line = await read()
            except (EOFError, KeyboardInterrupt):
                break
            await room.say(line)
    finally:
        # Cancelling leaves `async with connect(...)`, which closes with 1000.
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
        await room.leave()
    return 0


async def _interactive(options: ClientOptions) -> int:
    from prompt_toolkit import PromptSession, print_formatted_text
    from prompt_toolkit.patch_stdout import patch_stdout

    session: PromptSession[str] = PromptSession()
    prompt = f"{options.name or 'you'}> "

    def show(line: str) -> None:
        print_formatted_text(line)

    with patch_stdout(raw=True):
        return await _session(options, show, lambda: session.prompt_async(prompt))


async def _piped(options: ClientOptions) -> int:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def show(line: str) -> None:
        print(line, flush=True)

    async def read() -> str:
        raw = await reader.readline()
        if not raw:
            raise EOFError
        return raw.decode(errors="replace").rstrip("\r\n")

    return await _session(options, show, read)
