"""The terminal loop: one socket (reconnecting with backoff) and a prompt, around a ChatScreen.

On a terminal it uses prompt_toolkit: incoming lines print above the prompt, the bottom bar
shows the open conversation, who is typing and who is online, and typing in an open
conversation tells its members. With piped input it reads lines and prints plainly.
HTTP calls are blocking (httpx), so every ChatScreen call runs in a worker thread, one at a
time.
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
from websockets.typing import Subprotocol

from apps.chat.client.api import ChatAccount
from apps.chat.client.screen import HELP, ChatScreen

TICK_SECONDS = 5.0


class BadServerURL(ValueError):
    """The --server is not an http:// or https:// URL."""


def socket_url(server: str, device_id: str) -> str:
    parts = urlsplit(server)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise BadServerURL(f"{server!r} is not an http:// or https:// URL")
    scheme = "wss" if parts.scheme == "https" else "ws"
    path = parts.path.rstrip("/") + "/chat/ws"
    return urlunsplit((scheme, parts.netloc, path, urlencode({"device": device_id}), ""))


@dataclass(frozen=True)
class TerminalOptions:
    server: str = "http://127.0.0.1:8000"
    backoff_initial: float = 0.5
    backoff_max: float = 10.0


class Terminal:
    def __init__(
        self, options: TerminalOptions, account: ChatAccount, show: Callable[[str], None]
    ) -> None:
        self.options = options
        self.account = account
        self.show = show
        self.screen = ChatScreen(account, show)
        self.connection: ClientConnection | None = None
        self._turn = asyncio.Lock()

    async def call(self, action: Callable[..., Any], *args: Any) -> None:
        """Run a ChatScreen step in a thread, then send the frames it queued."""
        async with self._turn:
            await asyncio.to_thread(action, *args)
            frames, self.screen.outbox = self.screen.outbox, []
        if self.connection is not None:
            for frame in frames:
                with contextlib.suppress(ConnectionClosed):
                    await self.connection.send(json.dumps(frame))

    async def flush(self) -> None:
        """Send the frames a synchronous ChatScreen step (a keystroke) queued."""
        await self.call(lambda: None)

    async def tick_forever(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            await self.call(self.screen.tick)

    async def listen_forever(self) -> None:
        delay = self.options.backoff_initial
        url = socket_url(self.options.server, self.account.store.device_id)
        protocols = [Subprotocol("bearer"), Subprotocol(self.account.token)]
        while True:
            try:
                async with connect(url, subprotocols=protocols, open_timeout=5) as connection:
                    self.connection = connection
                    delay = self.options.backoff_initial
                    async for frame in connection:
                        event = json.loads(frame)
                        if event.get("type") == "ping":
                            await connection.send('{"type": "pong"}')
                        elif event.get("type") == "ready":
                            self.show(f"* connected ({event['backlog']} waiting messages)")
                        else:
                            await self.call(self.screen.on_event, event)
                reason = f"closed ({connection.close_code} {connection.close_reason})"
            except (OSError, TimeoutError, InvalidHandshake) as exc:
                reason = f"cannot connect ({type(exc).__name__}: {exc})"
            except ConnectionClosed as exc:
                reason = f"connection lost ({exc})"
            finally:
                self.connection = None
            wait = delay * random.uniform(0.8, 1.2)
            self.show(f"* {reason}; reconnecting in {wait:.1f} s")
            await asyncio.sleep(wait)
            delay = min(delay * 2, self.options.backoff_max)

    async def session(self, read: Callable[[], Awaitable[str]]) -> int:
        await self.call(self.screen.on_line, "/list")
        self.show(HELP)
        listener = asyncio.create_task(self.listen_forever())
        ticker = asyncio.create_task(self.tick_forever())
        try:
            while True:
                try:
                    line = await read()
                except (EOFError, KeyboardInterrupt):
                    break
                await self.call(self.screen.on_line, line)
        finally:
            for task in (listener, ticker):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return 0


async def run_terminal(
    options: TerminalOptions, account: ChatAccount, *, interactive: bool | None = None
) -> int:
    if interactive is None:
        interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if interactive:
        return await _interactive(options, account)
    return await _piped(options, account)


async def _interactive(options: TerminalOptions, account: ChatAccount) -> int:
    from prompt_toolkit import PromptSession, print_formatted_text
    from prompt_toolkit.patch_stdout import patch_stdout

    terminal = Terminal(options, account, lambda line: print_formatted_text(line))
    session: PromptSession[str] = PromptSession(
        bottom_toolbar=lambda: terminal.screen.status_bar(), refresh_interval=0.5
    )
    pending: set[asyncio.Task[None]] = set()

    def keystroke(_: object) -> None:
        if session.default_buffer.text.startswith("/"):
            return  # a command, not a message: nobody is told
        if terminal.screen.on_keystroke():
            task = asyncio.get_running_loop().create_task(terminal.flush())
            pending.add(task)
            task.add_done_callback(pending.discard)

    session.default_buffer.on_text_changed += keystroke
    with patch_stdout(raw=True):
        return await terminal.session(lambda: session.prompt_async("> "))


async def _piped(options: TerminalOptions, account: ChatAccount) -> int:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    terminal = Terminal(options, account, lambda line: print(line, flush=True))

    async def read() -> str:
        raw = await reader.readline()
        if not raw:
            raise EOFError
        return raw.decode(errors="replace").rstrip("\r\n")

    return await terminal.session(read)
