"""The game server: a lobby of rooms, one actor (a lock) per game, seats, spectators, timers.

Every action on a game runs inside its room's lock: the rules check it, the new state is
saved (a conditional write on the row's version), and only then does everyone in the room get
their own filtered view. Two shots sent at once are therefore applied in arrival order, and
only the seat whose turn it is can fire, so the other is refused with "not your turn" whatever
the order; a shot may also name the `move` it was aimed at, and is refused if the game moved.

A player who drops keeps the seat for `grace_seconds`: reconnecting with the seat's token
(`resume`) takes it back, otherwise they forfeit. After a restart, rooms are loaded from the
database on first use, and the grace period of their empty seats starts then.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from apps.battleship import services
from apps.battleship.config import BattleshipConfig
from apps.battleship.engine import Game, IllegalMove
from apps.battleship.services import StoredGame, new_code, new_token, token_hash

logger = logging.getLogger("stackyard.battleship")

SLOW_CONSUMER, REPLACED = 1013, 4409
MAX_NAME = 32


class Peer:
    """One socket: its bounded outbox and where it sits (a seat, or spectating with seat None)."""

    def __init__(self, outbox_size: int, default_name: str = "player") -> None:
        self.outbox: asyncio.Queue[str] = asyncio.Queue(outbox_size)
        self.default_name = default_name
        self.room: GameRoom | None = None
        self.seat: int | None = None
        self.closing: tuple[int, str] | None = None
        self.closed = asyncio.Event()

    def push(self, message: dict[str, Any]) -> None:
        """Queue a frame; a client too slow to take `outbox_size` frames is closed, not waited."""
        if self.closing is not None:
            return
        try:
            self.outbox.put_nowait(json.dumps(message, separators=(",", ":")))
        except asyncio.QueueFull:
            self.close(SLOW_CONSUMER, "slow consumer: too many unsent frames")

    def close(self, code: int, reason: str) -> None:
        self.closing = (code, reason)
        self.closed.set()


def clean_name(raw: Any, default: str) -> str:
    if raw is None:
        return default[:MAX_NAME]
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_NAME:
        raise IllegalMove(f"name must be 1-{MAX_NAME} characters")
    if not raw.isprintable():
        raise IllegalMove("name must not contain control characters")
    return raw.strip()


class GameRoom:
    """The actor of one game: its lock, its seats and spectators, its timers."""

    def __init__(self, lobby: Lobby, stored: StoredGame) -> None:
        self.lobby = lobby
        self.stored = stored
        self.lock = asyncio.Lock()
        self.seats: list[Peer | None] = [None, None]
        self.spectators: set[Peer] = set()
        self.grace: dict[int, asyncio.Task[None]] = {}
        self.placement: asyncio.Task[None] | None = None

    @property
    def game(self) -> Game:
        return self.stored.game

    @property
    def code(self) -> str:
        return self.game.code

    # ---- the one way a game changes -----------------------------------------------------

    async def act(
        self,
        mutate: Callable[[Game], dict[str, Any]],
        on_saved: Callable[[], None] | None = None,
    ) -> None:
        """Apply `mutate` (it raises IllegalMove before changing anything), save, announce.

        The work runs in its own task: a caller cancelled mid-save (its socket dropped) cannot
        leave a move saved but never announced.
        """

        async def locked() -> None:
            async with self.lock:
                await self._apply(mutate, on_saved)

        await asyncio.shield(asyncio.ensure_future(locked()))

    async def _apply(
        self,
        mutate: Callable[[Game], dict[str, Any]],
        on_saved: Callable[[], None] | None = None,
    ) -> None:
        before, tokens = self.game.to_dict(), list(self.stored.tokens)
        event = mutate(self.game)
        try:
            saved = await self.lobby.saves.save(self.stored, self.game.to_dict())
        except Exception:
            logger.warning("could not save battleship game %s", self.code, exc_info=True)
            saved = False
        if not saved:
            self.stored.game, self.stored.tokens = Game.from_dict(before), tokens
            with contextlib.suppress(Exception):
                fresh = await services.load(self.code)
                if fresh is not None:
                    self.stored = fresh
            raise IllegalMove("the move could not be saved (the game changed); try again")
        self._announce(event)
        if on_saved is not None:
            on_saved()
        self._schedule()

    def _announce(self, event: dict[str, Any] | None) -> None:
        connected = [peer is not None for peer in self.seats]
        for seat, peer in enumerate(self.seats):
            if peer is not None:
                peer.push(self.frame("update", seat, event, connected))
        if self.spectators:
            frame = self.frame("update", None, event, connected)
            for peer in self.spectators:
                peer.push(frame)

    def frame(
        self,
        kind: str,
        seat: int | None,
        event: dict[str, Any] | None = None,
        connected: list[bool] | None = None,
    ) -> dict[str, Any]:
        return {
            "type": kind,
            "event": event,
            "state": self.game.view(seat),
            "connected": connected or [peer is not None for peer in self.seats],
        }

    # ---- timers -------------------------------------------------------------------------

    def _schedule(self) -> None:
        phase = self.game.phase
        if phase == "placing" and self.placement is None:
            self.placement = asyncio.create_task(self._placement_deadline())
        placement = self.placement
        if phase != "placing" and placement is not None and placement is not asyncio.current_task():
            placement.cancel()
        if phase == "finished":
            for task in self.grace.values():
                if task is not asyncio.current_task():
                    task.cancel()
            self.grace.clear()
            if not any(self.seats) and not self.spectators:
                self.lobby.forget(self)

    def start_grace(self, seat: int) -> None:
        if self.game.phase != "finished" and seat not in self.grace:
            self.grace[seat] = asyncio.create_task(self._grace_expiry(seat))

    async def _grace_expiry(self, seat: int) -> None:
        await asyncio.sleep(self.lobby.config.grace_seconds)
        async with self.lock:
            self.grace.pop(seat, None)
            if self.seats[seat] is not None or self.game.phase == "finished":
                return
            name = self.game.names[seat] or f"seat {seat}"
            reason = f"{name} left and did not return within {self.lobby.config.grace_seconds:g}s"
            with contextlib.suppress(IllegalMove):
                await self._apply(lambda game: self._forfeit(game, seat, reason))

    async def _placement_deadline(self) -> None:
        await asyncio.sleep(self.lobby.config.placement_timeout)
        async with self.lock:
            game = self.game
            if game.phase != "placing":
                return
            late = [seat for seat in (0, 1) if not game.boards[seat].ships]

            def expire(game: Game) -> dict[str, Any]:
                if len(late) == 2:
                    game.finish(None, "nobody placed their ships in time")
                else:
                    game.forfeit(late[0], f"{game.names[late[0]]} did not place ships in time")
                return {"kind": "finished", "reason": game.reason}

            with contextlib.suppress(IllegalMove):
                await self._apply(expire)

    @staticmethod
    def _forfeit(game: Game, seat: int, reason: str) -> dict[str, Any]:
        game.forfeit(seat, reason)
        return {"kind": "forfeit", "seat": seat, "reason": reason}

    def resumed_from_storage(self) -> None:
        """A room loaded from the database: its seats are empty, their grace starts now."""
        for seat in (0, 1):
            if self.game.phase == "waiting" and seat == 1:
                continue
            self.start_grace(seat)
        self._schedule()

    # ---- who is in the room -------------------------------------------------------------

    def seat_peer(self, peer: Peer, seat: int) -> None:
        old = self.seats[seat]
        if old is not None and old is not peer:
            old.room, old.seat = None, None
            old.close(REPLACED, "this seat was taken over by a newer connection")
        self.seats[seat] = peer
        peer.room, peer.seat = self, seat
        task = self.grace.pop(seat, None)
        if task is not None:
            task.cancel()

    async def depart(self, peer: Peer) -> None:
        """`peer`'s socket is gone: a seat waits `grace_seconds` for its player."""
        async with self.lock:
            self.spectators.discard(peer)
            if peer.seat is not None and self.seats[peer.seat] is peer:
                self.seats[peer.seat] = None
                self.start_grace(peer.seat)
                self._announce({"kind": "presence", "seat": peer.seat, "connected": False})
            peer.room, peer.seat = None, None
            if self.game.phase == "finished" and not any(self.seats) and not self.spectators:
                self.lobby.forget(self)


class Lobby:
    """Every room this process serves, by game code."""

    def __init__(self, config: BattleshipConfig) -> None:
        self.config = config
        self.rooms: dict[str, GameRoom] = {}
        self.loading = asyncio.Lock()
        self.matching = asyncio.Lock()
        self.saves = services.GroupCommit()

    async def recover(self) -> None:
        """Load every unfinished game, so the grace period of its absent players starts now.

        Run once when a process starts serving: without it a game whose players never come
        back after a restart would stay open (and listed) for ever.
        """
        try:
            codes = await services.unfinished_codes()
        except Exception:
            logger.warning("could not list unfinished battleship games", exc_info=True)
            return
        for code in codes:
            with contextlib.suppress(IllegalMove):
                await self.room(code)

    def forget(self, room: GameRoom) -> None:
        if self.rooms.get(room.code) is room:
            del self.rooms[room.code]

    async def room(self, code: Any) -> GameRoom:
        if not isinstance(code, str) or not code.isalnum() or len(code) > 8:
            raise IllegalMove("game must be a game code such as 'K7PQ2M'")
        code = code.upper()
        async with self.loading:
            room = self.rooms.get(code)
            if room is None:
                stored = await services.load(code)
                if stored is None:
                    raise IllegalMove(f"no game with code {code}")
                room = self.rooms[code] = GameRoom(self, stored)
                room.resumed_from_storage()
        return room

    @staticmethod
    def _free(peer: Peer) -> None:
        if peer.room is not None:
            raise IllegalMove(f"you are already in game {peer.room.code}; send leave first")

    async def create(self, peer: Peer, name: Any, public: Any = True) -> None:
        self._free(peer)
        name = clean_name(name, peer.default_name)
        if not isinstance(public, bool):
            raise IllegalMove("public must be true or false")
        token = new_token()
        for _ in range(5):
            game = Game(code=new_code())
            game.names[0] = name
            if game.code in self.rooms:
                continue
            try:
                stored = await services.insert_game(game, token, public=public)
                break
            except Exception:  # a code collision (unique) or the database is unavailable
                logger.warning("could not create a battleship game", exc_info=True)
        else:
            raise IllegalMove("could not create a game right now; try again")
        room = self.rooms[game.code] = GameRoom(self, stored)
        room.seat_peer(peer, 0)
        peer.push({**room.frame("joined", 0), "game": game.code, "seat": 0, "token": token})

    async def join(self, peer: Peer, code: Any, name: Any) -> None:
        self._free(peer)
        name = clean_name(name, peer.default_name)
        room = await self.room(code)
        token = new_token()

        def sit(game: Game) -> dict[str, Any]:
            game.seat_joined(name)
            room.stored.tokens[1] = token_hash(token)
            return {"kind": "joined", "seat": 1, "name": name}

        def seated() -> None:
            room.seat_peer(peer, 1)
            frame = room.frame("joined", 1)
            peer.push({**frame, "game": room.code, "seat": 1, "token": token})

        await room.act(sit, seated)

    async def quick(self, peer: Peer, name: Any) -> None:
        """Join the oldest open public game whose host is here, else open one."""
        self._free(peer)
        clean_name(name, peer.default_name)
        async with self.matching:
            local = [
                room.code
                for room in self.rooms.values()
                if room.game.phase == "waiting" and room.stored.public and room.seats[0]
            ]
            stored = [game.code for game in await services.open_games(10)]
            for code in dict.fromkeys([*local, *stored]):
                room = self.rooms.get(code)
                if room is not None and room.seats[0] is None:
                    continue
                try:
                    await self.join(peer, code, name)
                    return
                except IllegalMove:
                    continue
            await self.create(peer, name, True)

    async def resume(self, peer: Peer, code: Any, token: Any) -> None:
        self._free(peer)
        if not isinstance(token, str) or not token or len(token) > 100:
            raise IllegalMove("token must be the seat token you were given on joining")
        room = await self.room(code)
        async with room.lock:
            given = token_hash(token)
            seat = next(
                (
                    seat
                    for seat, stored in enumerate(room.stored.tokens)
                    if stored is not None and hmac.compare_digest(stored, given)
                ),
                None,
            )
            if seat is None:
                raise IllegalMove("token does not match a seat of this game")
            room.seat_peer(peer, seat)
            peer.push({**room.frame("joined", seat), "game": room.code, "seat": seat})
            room._announce({"kind": "presence", "seat": seat, "connected": True})

    async def watch(self, peer: Peer, code: Any) -> None:
        self._free(peer)
        room = await self.room(code)
        async with room.lock:
            room.spectators.add(peer)
            peer.room, peer.seat = room, None
            peer.push({**room.frame("watching", None), "game": room.code})

    async def place(self, peer: Peer, ships: Any) -> None:
        room, seat = self._seated(peer)

        def place(game: Game) -> dict[str, Any]:
            game.place(seat, ships)
            return {"kind": "placed", "seat": seat}

        await room.act(place)

    async def fire(self, peer: Peer, row: Any, col: Any, move: Any = None) -> None:
        room, seat = self._seated(peer)

        def fire(game: Game) -> dict[str, Any]:
            if move is not None and move != game.move:
                raise IllegalMove(f"stale shot: aimed at move {move}, the game is at {game.move}")
            shot = game.fire(seat, row, col)
            return {
                "kind": "shot",
                "seat": seat,
                "row": shot.row,
                "col": shot.col,
                "result": shot.result,
                "ship": shot.ship,
                "won": shot.won,
                "move": shot.move,
            }

        await room.act(fire)

    async def resign(self, peer: Peer) -> None:
        room, seat = self._seated(peer)
        name = room.game.names[seat] or f"seat {seat}"
        await room.act(lambda game: room._forfeit(game, seat, f"{name} resigned"))

    async def leave(self, peer: Peer) -> None:
        """Leave the current game: a seat in a game still running resigns it."""
        room = peer.room
        if room is None:
            raise IllegalMove("you are not in a game")
        if peer.seat is not None and room.game.phase != "finished":
            await self.resign(peer)
        await room.depart(peer)
        peer.push({"type": "left", "game": room.code})

    async def disconnect(self, peer: Peer) -> None:
        if peer.room is not None:
            await peer.room.depart(peer)

    @staticmethod
    def _seated(peer: Peer) -> tuple[GameRoom, int]:
        if peer.room is None or peer.seat is None:
            raise IllegalMove("you have no seat: create, join, quick or resume a game first")
        return peer.room, peer.seat

    async def open_games(self) -> list[dict[str, Any]]:
        games = await services.open_games()
        return [
            {"game": game.code, "host": game.host, "created_at": game.created_at.isoformat()}
            for game in games
        ]
