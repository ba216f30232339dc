"""The rules of Battleship, with no I/O: placement, turns, shots, sinking, winning, views.

A `Game` is the whole secret state; `Game.view(seat)` is what one seat (or a spectator, seat
None) may know. The opponent's ships appear in a view only once sunk, and then only the
cells already hit, so nothing a client receives reveals an unhit ship cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

SIZE = 10
FLEET: dict[str, int] = {
    "carrier": 5,
    "battleship": 4,
    "cruiser": 3,
    "submarine": 3,
    "destroyer": 2,
}
TOTAL_SHIP_CELLS = sum(FLEET.values())

Phase = Literal["waiting", "placing", "playing", "finished"]
Cell = tuple[int, int]


class IllegalMove(Exception):
    """An action the rules refuse; `reason` says why, for the player."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Ship:
    name: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Shot:
    """The outcome of one shot: `result` is miss, hit or sunk; `won` ends the game."""

    seat: int
    row: int
    col: int
    result: str
    ship: str | None
    won: bool
    move: int


def ship_cells(row: int, col: int, direction: str, length: int) -> tuple[Cell, ...]:
    if direction == "h":
        return tuple((row, col + i) for i in range(length))
    return tuple((row + i, col) for i in range(length))


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise IllegalMove(f"{what} must be an integer")
    return value


def parse_fleet(raw: Any) -> list[Ship]:
    """Validate a placement `[{ship, row, col, dir}]`: the standard fleet, on the board, apart."""
    if not isinstance(raw, list):
        raise IllegalMove("ships must be a list of {ship, row, col, dir}")
    if len(raw) != len(FLEET):
        raise IllegalMove(f"ships: place exactly {len(FLEET)} ships ({', '.join(FLEET)})")
    ships: list[Ship] = []
    taken: dict[Cell, str] = {}
    for item in raw:
        if not isinstance(item, dict):
            raise IllegalMove("ships: each ship is an object {ship, row, col, dir}")
        name = item.get("ship")
        if not isinstance(name, str) or name not in FLEET:
            raise IllegalMove(f"ships: unknown ship {str(name)[:20]!r}; the fleet is {list(FLEET)}")
        if any(ship.name == name for ship in ships):
            raise IllegalMove(f"ships: {name} placed twice")
        row, col = _int(item.get("row"), f"{name}.row"), _int(item.get("col"), f"{name}.col")
        direction = item.get("dir")
        if direction not in ("h", "v"):
            raise IllegalMove(f"{name}.dir must be 'h' (across) or 'v' (down)")
        cells = ship_cells(row, col, direction, FLEET[name])
        for r, c in cells:
            if not (0 <= r < SIZE and 0 <= c < SIZE):
                raise IllegalMove(f"{name} does not fit inside the {SIZE}x{SIZE} board")
            if (r, c) in taken:
                raise IllegalMove(f"{name} overlaps {taken[(r, c)]} at row {r}, col {c}")
            taken[(r, c)] = name
        ships.append(Ship(name, cells))
    return ships


def fleet_to_wire(ships: list[Ship]) -> list[dict[str, Any]]:
    """The placement form of `ships` (what `parse_fleet` reads back)."""
    out = []
    for ship in ships:
        (r0, c0), (r1, _c1) = ship.cells[0], ship.cells[-1]
        out.append({"ship": ship.name, "row": r0, "col": c0, "dir": "v" if r1 != r0 else "h"})
    return out


@dataclass
class Board:
    """One seat's waters: its ships and the shots the opponent has fired into them."""

    ships: list[Ship] = field(default_factory=list)
    shots: dict[Cell, str] = field(default_factory=dict)

    def ship_at(self, cell: Cell) -> Ship | None:
        for ship in self.ships:
            if cell in ship.cells:
                return ship
        return None

    def is_sunk(self, ship: Ship) -> bool:
        return all(cell in self.shots for cell in ship.cells)

    def all_sunk(self) -> bool:
        return bool(self.ships) and all(self.is_sunk(ship) for ship in self.ships)


@dataclass
class Game:
    """Two seats (0 and 1); seat 0 creates, seat 1 joins, seat 0 fires first."""

    code: str
    phase: Phase = "waiting"
    names: list[str] = field(default_factory=lambda: ["", ""])
    boards: list[Board] = field(default_factory=lambda: [Board(), Board()])
    turn: int = 0
    move: int = 0
    winner: int | None = None
    reason: str | None = None

    # ---- transitions --------------------------------------------------------------------

    def seat_joined(self, name: str) -> None:
        if self.phase != "waiting":
            raise IllegalMove("the game already has two players")
        self.names[1] = name
        self.phase = "placing"

    def place(self, seat: int, raw_ships: Any) -> None:
        if self.phase == "waiting":
            raise IllegalMove("wait for an opponent before placing ships")
        if self.phase != "placing":
            raise IllegalMove("ships can only be placed before the first shot")
        if self.boards[seat].ships:
            raise IllegalMove("your ships are already placed")
        self.boards[seat].ships = parse_fleet(raw_ships)
        if all(board.ships for board in self.boards):
            self.phase = "playing"
            self.turn = 0

    def fire(self, seat: int, row: Any, col: Any) -> Shot:
        if self.phase != "playing":
            raise IllegalMove(f"no shots while the game is {self.phase}")
        if seat != self.turn:
            raise IllegalMove("not your turn")
        r, c = _int(row, "row"), _int(col, "col")
        if not (0 <= r < SIZE and 0 <= c < SIZE):
            raise IllegalMove(f"row and col must be within 0..{SIZE - 1}")
        target = self.boards[1 - seat]
        if (r, c) in target.shots:
            raise IllegalMove(f"row {r}, col {c} was already fired at")
        ship = target.ship_at((r, c))
        target.shots[(r, c)] = "miss" if ship is None else "hit"
        self.move += 1
        result, name = "miss", None
        if ship is not None:
            result = "hit"
            if target.is_sunk(ship):
                result, name = "sunk", ship.name
        won = target.all_sunk()
        if won:
            self.finish(seat, "all ships sunk")
        else:
            self.turn = 1 - seat  # classic rule: turns alternate, a hit earns no extra shot
        return Shot(seat, r, c, result, name, won, self.move)

    def finish(self, winner: int | None, reason: str) -> None:
        self.phase = "finished"
        self.winner = winner
        self.reason = reason

    def forfeit(self, seat: int, reason: str) -> None:
        """`seat` loses (disconnected too long, missed the placement deadline, resigned)."""
        if self.phase == "finished":
            return
        if self.phase == "waiting":
            self.finish(None, reason)
        else:
            self.finish(1 - seat, reason)

    # ---- what a seat may see ------------------------------------------------------------

    def view(self, seat: int | None) -> dict[str, Any]:
        """The state for `seat` (None: a spectator): the opponent's unhit cells never appear."""
        return {
            "game": self.code,
            "phase": self.phase,
            "you": seat,
            "turn": self.turn if self.phase == "playing" else None,
            "move": self.move,
            "winner": self.winner,
            "reason": self.reason,
            "names": list(self.names),
            "boards": [self._board_view(index, seat) for index in (0, 1)],
        }

    def _board_view(self, index: int, viewer: int | None) -> dict[str, Any]:
        board = self.boards[index]
        shots = [[r, c, kind] for (r, c), kind in sorted(board.shots.items())]
        sunk = [
            {"ship": ship.name, "cells": [list(cell) for cell in ship.cells]}
            for ship in board.ships
            if board.is_sunk(ship)
        ]
        view: dict[str, Any] = {"placed": bool(board.ships), "shots": shots, "sunk": sunk}
        if viewer == index:
            view["ships"] = fleet_to_wire(board.ships)
        return view

    # ---- persistence --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "phase": self.phase,
            "names": self.names,
            "turn": self.turn,
            "move": self.move,
            "winner": self.winner,
            "reason": self.reason,
            "boards": [
                {
                    "ships": fleet_to_wire(board.ships),
                    "shots": [[r, c, kind] for (r, c), kind in board.shots.items()],
                }
                for board in self.boards
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Game:
        boards = []
        for raw in data["boards"]:
            ships = parse_fleet(raw["ships"]) if raw["ships"] else []
            shots = {(r, c): kind for r, c, kind in raw["shots"]}
            boards.append(Board(ships, shots))
        return cls(
            code=data["code"],
            phase=data["phase"],
            names=list(data["names"]),
            boards=boards,
            turn=data["turn"],
            move=data["move"],
            winner=data["winner"],
            reason=data["reason"],
        )
