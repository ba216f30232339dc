"""Talking to `/battleship/ws`: a small socket client, and a bot that plays a whole game.

`bot_match(url)` seats two bots in a private game and plays it out, checking every frame
either bot receives against the rules (`Referee`); the tests, the benchmark and
`stackyard battleship play --vs-bot` all use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect

from apps.battleship.bot import choose_shot, random_fleet
from apps.battleship.engine import SIZE, TOTAL_SHIP_CELLS

SOCKET_PATH = "/battleship/ws"


def socket_url(url: str) -> str:
    """`http://host:port` (or a ws:// URL) -> the game socket's ws:// URL."""
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss") or not parts.netloc:
        raise ValueError(f"not an http(s):// or ws(s):// URL: {url!r}")
    path = parts.path if parts.path.endswith(SOCKET_PATH) else parts.path.rstrip("/") + SOCKET_PATH
    return urlunsplit((scheme, parts.netloc, path, "", ""))


class ServerRefused(Exception):
    """The server answered a request with an error frame."""


class GameSocket:
    """One connection: send requests, read frames (answering pings), remember every frame."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.frames: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self.backlog: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, url: str, token: str | None = None) -> GameSocket:
        protocols = ["bearer", token] if token else None
        connection = await connect(
            socket_url(url),
            subprotocols=protocols,  # type: ignore[arg-type]
            compression=None,
            open_timeout=30,
            ping_interval=None,
        )
        return cls(connection)

    async def send(self, request: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(request))

    async def frame(self, wait: float = 30) -> dict[str, Any]:
        """The next frame other than a ping (first any read ahead by `listen_while`)."""
        if self.backlog:
            return self.backlog.pop(0)
        while True:
            async with asyncio.timeout(wait):
                text = await self.connection.recv()
            if isinstance(text, bytes):
                text = text.decode()
            message: dict[str, Any] = json.loads(text)
            if message.get("type") == "ping":
                await self.send({"type": "pong"})
                continue
            self.raw.append(text)
            self.frames.append(message)
            return message

    async def expect(self, *kinds: str, wait: float = 30) -> dict[str, Any]:
        """Skip frames until one of `kinds` arrives; an error frame raises ServerRefused."""
        while True:
            message = await self.frame(wait)
            if message["type"] in kinds:
                return message
            if message["type"] == "error":
                raise ServerRefused(message["detail"])

    async def listen_while(self, work: asyncio.Future[Any]) -> Any:
        """Await `work` while reading frames (answering pings, so the server keeps us)."""
        while not work.done():
            reader = asyncio.ensure_future(self.frame(wait=3600))
            done, _ = await asyncio.wait({work, reader}, return_when=asyncio.FIRST_COMPLETED)
            if reader in done:
                self.backlog.append(reader.result())
            else:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
        return work.result()

    async def close(self) -> None:
        await self.connection.close()


@dataclass
class Referee:
    """Checks the frames one seat receives; anything impossible is recorded as illegal."""

    seat: int
    problems: list[str] = field(default_factory=list)
    last_move: int = 0
    fired: dict[int, set[tuple[int, int]]] = field(default_factory=lambda: {0: set(), 1: set()})

    def check(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "error":
            self.problems.append(f"seat {self.seat} refused: {frame['detail']}")
            return
        state = frame.get("state")
        if state is None:
            return
        if state["move"] < self.last_move:
            self.problems.append(f"move went back from {self.last_move} to {state['move']}")
        self.last_move = state["move"]
        other = state["boards"][1 - self.seat]
        if "ships" in other:
            self.problems.append(f"seat {self.seat} was sent the opponent's fleet")
        event = frame.get("event") or {}
        if event.get("kind") == "shot":
            cell = (event["row"], event["col"])
            if cell in self.fired[event["seat"]]:
                self.problems.append(f"seat {event['seat']} fired at {cell} twice")
            self.fired[event["seat"]].add(cell)
            if event["move"] != state["move"]:
                self.problems.append("a shot's move does not match the state's move")
        total = sum(len(board["shots"]) for board in state["boards"])
        if total != state["move"]:
            self.problems.append(f"{total} shots on the boards at move {state['move']}")

    def check_end(self, state: dict[str, Any]) -> None:
        if state["phase"] != "finished" or state["winner"] not in (0, 1):
            self.problems.append(f"game ended without a winner: {state['phase']}")
            return
        loser = state["boards"][1 - state["winner"]]
        hits = sum(1 for _, _, kind in loser["shots"] if kind == "hit")
        if state["reason"] == "all ships sunk" and (
            hits != TOTAL_SHIP_CELLS or len(loser["sunk"]) != 5
        ):
            self.problems.append(f"won with {hits} hits and {len(loser['sunk'])} ships sunk")


@dataclass
class MatchResult:
    code: str
    winner: int | None
    moves: int
    rtts: list[float]
    problems: list[str]


async def play_seat(
    game: GameSocket, seat: int, joined: dict[str, Any], rng: random.Random, referee: Referee
) -> tuple[dict[str, Any], list[float]]:
    """Place a random fleet and fire whenever it is this seat's turn, until the game ends."""
    rtts: list[float] = []
    await game.send({"type": "place", "ships": random_fleet(rng)})
    state = joined["state"]
    sent_at: float | None = None
    while state["phase"] != "finished":
        if state["phase"] == "playing" and state["turn"] == seat and sent_at is None:
            row, col = choose_shot(state["boards"][1 - seat], rng)
            sent_at = time.perf_counter()
            await game.send({"type": "fire", "row": row, "col": col, "move": state["move"]})
        frame = await game.frame()
        referee.check(frame)
        if frame["type"] == "error":
            raise ServerRefused(frame["detail"])
        if frame["type"] != "update":
            continue
        state = frame["state"]
        event = frame["event"] or {}
        if event.get("kind") == "shot" and event["seat"] == seat and sent_at is not None:
            rtts.append(time.perf_counter() - sent_at)
            sent_at = None
    return state, rtts


async def bot_match(url: str, rng: random.Random | None = None) -> MatchResult:
    """Two bots in one private game, played to the end through the server at `url`."""
    rng = rng or random.Random()
    host = await GameSocket.open(url)
    guest = await GameSocket.open(url)
    referees = [Referee(0), Referee(1)]
    try:
        await host.send({"type": "create", "name": "bot-a", "public": False})
        created = await host.expect("joined")
        code = created["game"]
        await guest.send({"type": "join", "game": code, "name": "bot-b"})
        joined = await guest.expect("joined")
        results = await asyncio.gather(
            play_seat(host, 0, created, rng, referees[0]),
            play_seat(guest, 1, joined, rng, referees[1]),
            return_exceptions=True,
        )
    finally:
        await asyncio.gather(host.close(), guest.close(), return_exceptions=True)
    problems: list[str] = []
    rtts: list[float] = []
    final: dict[str, Any] | None = None
    for seat, result in enumerate(results):
        if isinstance(result, BaseException):
            problems.append(f"seat {seat}: {type(result).__name__}: {result}")
            continue
        final, seat_rtts = result
        referees[seat].check_end(final)
        rtts.extend(seat_rtts)
    problems += [problem for referee in referees for problem in referee.problems]
    problems = list(dict.fromkeys(problems))
    if final is None:
        return MatchResult(code, None, 0, rtts, problems)
    return MatchResult(code, final["winner"], final["move"], rtts, problems)


def cell_name(row: int, col: int) -> str:
    """Row 0 col 0 -> 'A1' (letters are rows, numbers columns)."""
    return f"{chr(ord('A') + row)}{col + 1}"


def parse_cell(text: str) -> tuple[int, int]:
    """'A1'..'J10' (any case, spaces ignored) -> (row, col); ValueError with a reason."""
    cleaned = text.strip().upper().replace(" ", "")
    if len(cleaned) < 2 or not "A" <= cleaned[0] <= chr(ord("A") + SIZE - 1):
        raise ValueError(f"a cell is a letter A-{chr(ord('A') + SIZE - 1)} and a number 1-{SIZE}")
    try:
        col = int(cleaned[1:]) - 1
    except ValueError:
        raise ValueError(f"a cell is a letter and a number 1-{SIZE}, like B7") from None
    if not 0 <= col < SIZE:
        raise ValueError(f"the number must be 1-{SIZE}")
    return ord(cleaned[0]) - ord("A"), col
