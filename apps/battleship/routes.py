"""The socket `/battleship/ws`: one JSON text frame per request, answered and broadcast.

Client requests (`type` and its fields):
  create {name?, public?}   list   join {game, name?}   quick {name?}
  resume {game, token}      watch {game}   place {ships: [{ship, row, col, dir}]}
  fire {row, col, move?}    resign   leave   pong
Server frames:
  joined {game, seat, token?, state, connected}   watching {game, state, connected}
  update {event, state, connected}   games {games: [{game, host, created_at}]}
  left {game}   error {request, detail}   ping
`state` is the engine's view for the receiving seat (spectators: neither fleet). Close codes:
4401 bad access token, 4409 seat taken over by a newer connection, 1013 slow consumer,
1011 keepalive timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from litestar import Litestar, WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from apps.battleship.config import BattleshipConfig
from apps.battleship.engine import IllegalMove
from apps.battleship.server import Lobby, Peer
from apps.kernel.errors import Unauthorized
from apps.kernel.realtime import RealtimeConfig, socket_user
from apps.kernel.realtime import metrics as realtime_metrics

UNAUTHORIZED, KEEPALIVE_TIMEOUT = 4401, 1011
MAX_FRAME = 8192
_STATE_KEY = "battleship_lobby"
logger = logging.getLogger("stackyard.battleship")
_background: set[asyncio.Task[None]] = set()


def lobby_of(app: Litestar) -> Lobby:
    """This application's lobby (one per app, so two apps in one process never share games)."""
    lobby = app.state.get(_STATE_KEY)
    if lobby is None:
        lobby = app.state[_STATE_KEY] = Lobby(BattleshipConfig.from_env())
        with contextlib.suppress(RuntimeError):  # no running loop: nothing to recover into
            recovery = asyncio.get_running_loop().create_task(lobby.recover())
            _background.add(recovery)
            recovery.add_done_callback(_background.discard)
    return lobby  # type: ignore[no-any-return]


async def dispatch(lobby: Lobby, peer: Peer, request: dict[str, Any]) -> None:
    """Run one request; IllegalMove carries the reason the client is told."""
    kind = request.get("type")
    if kind == "create":
        await lobby.create(peer, request.get("name"), request.get("public", True))
    elif kind == "list":
        peer.push({"type": "games", "games": await lobby.open_games()})
    elif kind == "join":
        await lobby.join(peer, request.get("game"), request.get("name"))
    elif kind == "quick":
        await lobby.quick(peer, request.get("name"))
    elif kind == "resume":
        await lobby.resume(peer, request.get("game"), request.get("token"))
    elif kind == "watch":
        await lobby.watch(peer, request.get("game"))
    elif kind == "place":
        await lobby.place(peer, request.get("ships"))
    elif kind == "fire":
        await lobby.fire(peer, request.get("row"), request.get("col"), request.get("move"))
    elif kind == "resign":
        await lobby.resign(peer)
    elif kind == "leave":
        await lobby.leave(peer)
    else:
        known = "create, list, join, quick, resume, watch, place, fire, resign, leave"
        raise IllegalMove(f"unknown request type {str(kind)[:20]!r}; one of: {known}")


def parse_request(text: str) -> dict[str, Any]:
    if len(text) > MAX_FRAME:
        raise IllegalMove(f"frames are limited to {MAX_FRAME} characters")
    try:
        request = json.loads(text)
    except ValueError:
        raise IllegalMove('send JSON objects such as {"type": "list"}') from None
    if not isinstance(request, dict) or not isinstance(request.get("type"), str):
        raise IllegalMove("each frame is a JSON object with a string `type`")
    return request


class Connection:
    """One accepted socket: reads requests in order, writes its peer's outbox, pings."""

    def __init__(self, socket: WebSocket[Any, Any, Any], lobby: Lobby, peer: Peer) -> None:
        self.socket = socket
        self.lobby = lobby
        self.peer = peer
        self.last_heard = time.monotonic()

    async def run(self) -> tuple[int, str] | None:
        tasks = [
            asyncio.create_task(self._receive()),
            asyncio.create_task(self._send()),
            asyncio.create_task(self._keepalive()),
            asyncio.create_task(self.peer.closed.wait()),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.lobby.disconnect(self.peer)
        if self.peer.closing is not None:
            return self.peer.closing
        receiver = tasks[0]
        if receiver.done() and not receiver.cancelled() and receiver.exception() is not None:
            return None  # the client went away
        return KEEPALIVE_TIMEOUT, "keepalive timeout"

    async def _receive(self) -> None:
        while True:
            text = await self.socket.receive_text()
            self.last_heard = time.monotonic()
            request: dict[str, Any] = {}
            try:
                request = parse_request(text)
                if request["type"] != "pong":
                    await dispatch(self.lobby, self.peer, request)
            except IllegalMove as refused:
                self.peer.push(
                    {"type": "error", "request": request.get("type"), "detail": refused.reason}
                )
            except Exception:  # the database or Redis failed: say so, keep the socket
                logger.warning("battleship request failed", exc_info=True)
                self.peer.push(
                    {
                        "type": "error",
                        "request": request.get("type"),
                        "detail": "the server could not complete this request; try again",
                    }
                )

    async def _send(self) -> None:
        outbox = self.peer.outbox
        while True:
            await self.socket.send_text(await outbox.get())

    async def _keepalive(self) -> None:
        config = RealtimeConfig.from_env()
        while True:
            await asyncio.sleep(config.ping_interval)
            if time.monotonic() - self.last_heard > config.ping_interval + config.ping_timeout:
                return
            self.peer.push({"type": "ping", "ts": time.time()})


@websocket("/ws", operation_id="BattleshipSocket")
async def battleship_socket(socket: WebSocket[Any, Any, Any]) -> None:
    """Lobby and games over one socket: JSON requests in, per-seat filtered states out.

    Signing in is optional (subprotocols `bearer, <access token>`; the display name becomes
    the default player name). See the module docstring for the requests and frames.
    """
    try:
        user, protocol = await socket_user(socket)
    except Unauthorized as exc:
        await socket.close(code=UNAUTHORIZED, reason=exc.detail[:120])
        return
    await socket.accept(subprotocols=protocol)
    lobby = lobby_of(socket.app)
    peer = Peer(lobby.config.outbox_size, user.display_name if user is not None else "player")
    with realtime_metrics.connected_client():
        try:
            closing = await Connection(socket, lobby, peer).run()
        except WebSocketDisconnect:
            return
    if closing is not None:
        with contextlib.suppress(Exception):
            await socket.close(code=closing[0], reason=closing[1])
