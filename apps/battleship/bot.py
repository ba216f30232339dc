"""A hunt/target bot: random legal fleets, checkerboard hunting, then finish what it hit.

The bot reads only what its own view shows (the shots at the opponent's board and the ships
already sunk), so it cannot cheat and can pick up a resumed game where it left off.
"""

from __future__ import annotations

import random
from typing import Any

from apps.battleship.engine import FLEET, SIZE, Cell, Ship, fleet_to_wire, ship_cells


def random_fleet(rng: random.Random | None = None) -> list[dict[str, Any]]:
    """A legal placement of the standard fleet, in the wire form `{ship, row, col, dir}`."""
    rng = rng or random.Random()
    while True:
        taken: set[Cell] = set()
        ships: list[Ship] = []
        for name, length in FLEET.items():
            for _ in range(100):
                direction = rng.choice("hv")
                row = rng.randrange(SIZE - (length - 1 if direction == "v" else 0))
                col = rng.randrange(SIZE - (length - 1 if direction == "h" else 0))
                cells = ship_cells(row, col, direction, length)
                if not taken.intersection(cells):
                    taken.update(cells)
                    ships.append(Ship(name, cells))
                    break
        if len(ships) == len(FLEET):
            return fleet_to_wire(ships)


def _neighbours(cell: Cell) -> list[Cell]:
    r, c = cell
    around = [(r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)]
    return [(a, b) for a, b in around if 0 <= a < SIZE and 0 <= b < SIZE]


def choose_shot(target: dict[str, Any], rng: random.Random | None = None) -> Cell:
    """The next cell to fire at, given the opponent's board as this seat's view shows it."""
    rng = rng or random.Random()
    shot: dict[Cell, str] = {(r, c): kind for r, c, kind in target["shots"]}
    sunk = {tuple(cell) for ship in target["sunk"] for cell in ship["cells"]}
    open_hits = sorted(cell for cell, kind in shot.items() if kind == "hit" and cell not in sunk)
    if open_hits:
        return _target(open_hits, shot, rng)
    free = [(r, c) for r in range(SIZE) for c in range(SIZE) if (r, c) not in shot]
    if not free:
        raise ValueError("every cell has been fired at")
    parity = [cell for cell in free if (cell[0] + cell[1]) % 2 == 0]
    return rng.choice(parity or free)


def _target(hits: list[Cell], shot: dict[Cell, str], rng: random.Random) -> Cell:
    """Extend a line of hits if two line up, else try the neighbours of any open hit."""
    hit_set = set(hits)
    for r, c in hits:
        for dr, dc in ((0, 1), (1, 0)):
            if (r + dr, c + dc) not in hit_set:
                continue
            line = [(r, c)]
            while (line[-1][0] + dr, line[-1][1] + dc) in hit_set:
                line.append((line[-1][0] + dr, line[-1][1] + dc))
            ends = [(r - dr, c - dc), (line[-1][0] + dr, line[-1][1] + dc)]
            options = [e for e in ends if 0 <= e[0] < SIZE and 0 <= e[1] < SIZE and e not in shot]
            if options:
                return rng.choice(options)
    candidates = [n for cell in hits for n in _neighbours(cell) if n not in shot]
    if candidates:
        return rng.choice(candidates)
    free = [(r, c) for r in range(SIZE) for c in range(SIZE) if (r, c) not in shot]
    return rng.choice(free)
