"""The terminal side of live polls: an event-driven socket client and its bar chart.

`LiveResults` registers handlers per message type (`on("tally", ...)`) and calls them as
frames arrive; nothing polls. It answers pings, re-sends `subscribe` after every reconnect
(capped, jittered backoff) and stops after the close unless asked to stay. `PollBoard` holds
what the chart shows and renders it with Rich.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
from collections import defaultdict
from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

Message = dict[str, Any]
Handler = Callable[[Message], None]
Send = Callable[[str], Awaitable[None]]
BAR_WIDTH = 30
FATAL_CLOSE_CODES = {4401, 4404, 4408, 4422}


class BadServerURL(ValueError):
    """The --server is not an http:// or https:// URL."""


class Refused(Exception):
    """The server refused the connection for good (bad token, unknown poll)."""


def live_url(server: str, poll_id: str, device: str | None) -> str:
    """The ws:// URL of a poll's live socket on an http:// server."""
    parts = urlsplit(server)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise BadServerURL(f"{server!r} is not an http:// or https:// URL")
    scheme = "wss" if parts.scheme == "https" else "ws"
    path = f"{parts.path.rstrip('/')}/polls/{quote(poll_id, safe='')}/live"
    query = f"device={quote(device, safe='')}" if device else ""
    return urlunsplit((scheme, parts.netloc, path, query, ""))


def device_token(path: Path | None = None) -> str:
    """This machine's anonymous voter token, created on first use and kept private."""
    if path is None:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        path = base / "stackyard" / "polls-device-token"
    try:
        token = path.read_text().strip()
        if token:
            return token
    except OSError:
        pass
    token = secrets.token_urlsafe(24)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(token + "\n")
    path.chmod(0o600)
    return token


@dataclass
class PollBoard:
    """What the terminal shows: the question, the latest results this viewer may see."""

    question: str = ""
    results: Message | None = None
    note: str = "connecting"
    closed: bool = False
    changes: int = 0

    def show_poll(self, message: Message) -> None:
        self.question = message["poll"]["question"]
        self.show_results(message, force=True)

    def show_results(self, message: Message, *, force: bool = False) -> None:
        """Take newer results only: a late frame never replaces a newer tally."""
        results = message["results"]
        if force or self.results is None or results["version"] >= self.results["version"]:
            self.results = results
            self.closed = results["status"] == "closed"
            self.changes += 1

    def render(self) -> RenderableType:
        results = self.results or {"options": [], "status": "?", "visible": False}
        table = Table.grid(padding=(0, 1))
        top = max([o["votes"] or 0 for o in results["options"]] + [1])
        total = results.get("voters") or 0
        mine = set(results.get("my_choices") or ())
        for option in results["options"]:
            votes = option["votes"]
            marker = "✓" if option["number"] in mine else " "
            label = f"{marker} {option['number']}. {option['text']}"
            if votes is None:
                table.add_row(label, Text("·" * BAR_WIDTH, style="dim"), "?")
                continue
            bar = "█" * round(BAR_WIDTH * votes / top) if votes else ""
            share = f"{100 * votes / total:.0f}%" if total else "0%"
            table.add_row(label, Text(bar.ljust(BAR_WIDTH), style="cyan"), f"{votes} ({share})")
        status = results["status"]
        if results.get("visible"):
            summary = f"{status} · {total} voter{'s' if total != 1 else ''}"
        else:
            summary = f"{status} · results hidden until {results.get('hidden_until') or '?'}"
        footer = Text(f"{summary} · {self.note}", style="dim")
        return Panel(Group(table, footer), title=self.question or "poll", title_align="left")


@dataclass(frozen=True)
class WatchOptions:
    url: str
    token: str | None = None
    stay: bool = False
    backoff_initial: float = 0.5
    backoff_max: float = 10.0
    open_timeout: float = 5.0


@dataclass
class LiveResults:
    """A live-results connection that calls registered handlers for each pushed message."""

    options: WatchOptions
    handlers: dict[str, list[Handler]] = field(default_factory=lambda: defaultdict(list))
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    def on(self, kind: str, handler: Handler) -> None:
        """Call `handler(message)` for every message of this `type` (`*` for all)."""
        self.handlers[kind].append(handler)

    def dispatch(self, frame: str | bytes) -> Message | None:
        """Run the handlers of one frame; frames that are not JSON objects are ignored."""
        try:
            message = json.loads(frame)
        except ValueError:
            return None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            return None
        for handler in [*self.handlers.get(message["type"], ()), *self.handlers.get("*", ())]:
            handler(message)
        if message["type"] == "closed" and not self.options.stay:
            self.finished.set()
        return message

    async def consume(self, frames: AsyncIterable[str | bytes], send: Send) -> None:
        """Subscribe, then handle frames as they come until the stream ends or we are done."""
        await send(json.dumps({"type": "subscribe"}))
        async for frame in frames:
            message = self.dispatch(frame)
            if message is not None and message["type"] == "ping":
                await send(json.dumps({"type": "pong"}))
            if self.finished.is_set():
                return

    def _status(self, note: str) -> None:
        self.dispatch(json.dumps({"type": "status", "note": note}))

    async def run(self) -> None:
        """Stay connected until the poll closes (or forever with `stay`); back off on drops."""
        delay = self.options.backoff_initial
        protocols = (
            [Subprotocol("bearer"), Subprotocol(self.options.token)] if self.options.token else None
        )
        while not self.finished.is_set():
            try:
                async with connect(
                    self.options.url,
                    subprotocols=protocols,
                    open_timeout=self.options.open_timeout,
                    close_timeout=2,
                ) as connection:
                    self._status("live")
                    delay = self.options.backoff_initial
                    await self.consume(connection, connection.send)
                    if self.finished.is_set():
                        return
                reason = _closed(connection.close_code, connection.close_reason or "")
            except ConnectionClosed as exc:
                code, text = (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd else (None, "")
                reason = _closed(code, text)
            except InvalidStatus as exc:
                status = exc.response.status_code
                if 400 <= status < 500:
                    raise Refused(f"server refused the socket (HTTP {status})") from None
                reason = f"server answered HTTP {status}"
            except (OSError, TimeoutError, InvalidHandshake) as exc:
                reason = f"cannot connect ({type(exc).__name__})"
            wait = delay * random.uniform(0.8, 1.2)
            self._status(f"{reason}; reconnecting in {wait:.1f} s")
            await asyncio.sleep(wait)
            delay = min(delay * 2, self.options.backoff_max)


def _closed(code: int | None, reason: str) -> str:
    """Why the socket ended; raises Refused when reconnecting cannot help."""
    if code in FATAL_CLOSE_CODES:
        raise Refused(f"server closed the socket ({code}: {reason})")
    return "connection lost" if code in {None, 1006} else f"server closed the socket ({code})"


def follow(board: PollBoard, live: LiveResults, redraw: Callable[[], None]) -> None:
    """Wire the board to the connection: each pushed message updates it and redraws."""

    def snapshot(message: Message) -> None:
        board.show_poll(message)
        redraw()

    def results(message: Message) -> None:
        board.show_results(message)
        redraw()

    def status(message: Message) -> None:
        board.note = str(message.get("note", ""))
        redraw()

    def error(message: Message) -> None:
        board.note = f"server: {message.get('detail', '?')}"
        redraw()

    live.on("snapshot", snapshot)
    for kind in ("tally", "opened", "closed"):
        live.on(kind, results)
    live.on("status", status)
    live.on("error", error)
