"""The rules without a server: placement, turns, hits, sinking, winning, and filtered views."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from apps.battleship.bot import choose_shot, random_fleet
from apps.battleship.engine import FLEET, SIZE, Game, IllegalMove, parse_fleet

FLEET_A = [
    {"ship": "carrier", "row": 0, "col": 0, "dir": "h"},
    {"ship": "battleship", "row": 2, "col": 0, "dir": "h"},
    {"ship": "cruiser", "row": 4, "col": 0, "dir": "h"},
    {"ship": "submarine", "row": 6, "col": 0, "dir": "h"},
    {"ship": "destroyer", "row": 8, "col": 0, "dir": "h"},
]
FLEET_B = [
    {"ship": "carrier", "row": 0, "col": 9, "dir": "v"},
    {"ship": "battleship", "row": 0, "col": 7, "dir": "v"},
    {"ship": "cruiser", "row": 0, "col": 5, "dir": "v"},
    {"ship": "submarine", "row": 5, "col": 5, "dir": "v"},
    {"ship": "destroyer", "row": 8, "col": 7, "dir": "h"},
]


def started_game() -> Game:
    game = Game(code="TEST")
    game.names[0] = "a"
    game.seat_joined("b")
    game.place(0, FLEET_A)
    game.place(1, FLEET_B)
    return game


def with_ship(**changes: Any) -> list[dict[str, Any]]:
    fleet = [dict(ship) for ship in FLEET_A]
    fleet[0].update(changes)
    return fleet


@pytest.mark.parametrize(
    ("ships", "reason"),
    [
        (FLEET_A[:4], "exactly 5 ships"),
        ([*FLEET_A[:4], dict(FLEET_A[0])], "placed twice"),
        ([*FLEET_A[:4], {**FLEET_A[4], "ship": "canoe"}], "unknown ship"),
        (with_ship(col=6), "does not fit"),
        (with_ship(row=-1), "does not fit"),
        (with_ship(row=1, col=1, dir="v"), "overlaps"),
        (with_ship(dir="x"), "dir must be"),
        (with_ship(row="3"), "must be an integer"),
        (with_ship(row=True), "must be an integer"),
        ("ships", "must be a list"),
    ],
)
def test_placement_is_refused_with_a_reason(ships: Any, reason: str) -> None:
    with pytest.raises(IllegalMove) as refused:
        parse_fleet(ships)
    assert reason in refused.value.reason


def test_the_standard_fleet_is_five_ships_of_5_4_3_3_2() -> None:
    assert sorted(FLEET.values(), reverse=True) == [5, 4, 3, 3, 2]
    assert sum(len(ship.cells) for ship in parse_fleet(FLEET_A)) == 17


def test_ships_cannot_be_placed_before_an_opponent_joins_or_twice() -> None:
    game = Game(code="X")
    with pytest.raises(IllegalMove, match="wait for an opponent"):
        game.place(0, FLEET_A)
    game.seat_joined("b")
    game.place(0, FLEET_A)
    with pytest.raises(IllegalMove, match="already placed"):
        game.place(0, FLEET_B)
    assert game.phase == "placing"


def test_a_shot_out_of_turn_or_repeated_is_rejected() -> None:
    game = started_game()
    with pytest.raises(IllegalMove, match="not your turn"):
        game.fire(1, 0, 0)
    assert game.fire(0, 5, 9).result == "miss"
    with pytest.raises(IllegalMove, match="not your turn"):
        game.fire(0, 5, 8)
    game.fire(1, 9, 9)
    with pytest.raises(IllegalMove, match="already fired at"):
        game.fire(0, 5, 9)
    with pytest.raises(IllegalMove, match=r"within 0\.\.9"):
        game.fire(0, 10, 0)


def test_hits_sink_a_ship_and_sinking_the_fleet_wins() -> None:
    game = started_game()
    assert game.fire(0, 8, 7).result == "hit"
    game.fire(1, 9, 9)
    sunk = game.fire(0, 8, 8)
    assert (sunk.result, sunk.ship) == ("sunk", "destroyer")
    targets = [cell for ship in parse_fleet(FLEET_B) for cell in ship.cells]
    misses = iter((r, c) for r in range(SIZE) for c in range(1, SIZE) if r % 2)
    last = None
    for cell in targets:
        if cell in game.boards[1].shots:
            continue
        game.fire(1, *next(misses))
        last = game.fire(0, *cell)
    assert last is not None and last.won
    assert (game.phase, game.winner, game.reason) == ("finished", 0, "all ships sunk")
    with pytest.raises(IllegalMove, match="finished"):
        game.fire(1, 0, 0)


def unhit_cells(game: Game, seat: int) -> set[tuple[int, int]]:
    board = game.boards[seat]
    return {cell for ship in board.ships for cell in ship.cells if cell not in board.shots}


def test_views_never_hold_the_opponents_unhit_ship_cells() -> None:
    game = started_game()
    game.fire(0, 0, 9)
    game.fire(1, 0, 0)
    for seat in (0, 1, None):
        view = game.view(seat)
        for index in (0, 1):
            if index == seat:
                continue
            board = view["boards"][index]
            assert "ships" not in board
            shown = {(r, c) for r, c, _ in board["shots"]}
            shown |= {tuple(cell) for ship in board["sunk"] for cell in ship["cells"]}
            assert not shown & unhit_cells(game, index)
    own = game.view(0)["boards"][0]["ships"]
    assert own == FLEET_A


def test_a_game_survives_a_round_trip_through_json() -> None:
    game = started_game()
    game.fire(0, 3, 3)
    game.fire(1, 0, 0)
    again = Game.from_dict(json.loads(json.dumps(game.to_dict())))
    assert again.to_dict() == game.to_dict()
    assert again.view(1) == game.view(1)


def test_forfeit_gives_the_game_to_the_other_seat() -> None:
    game = started_game()
    game.forfeit(1, "disconnected")
    assert (game.phase, game.winner, game.reason) == ("finished", 0, "disconnected")


def test_two_bots_always_finish_a_legal_game() -> None:
    rng = random.Random(7)
    for _ in range(30):
        game = Game(code="BOTS")
        game.seat_joined("b")
        game.place(0, random_fleet(rng))
        game.place(1, random_fleet(rng))
        while game.phase == "playing":
            seat = game.turn
            row, col = choose_shot(game.view(seat)["boards"][1 - seat], rng)
            game.fire(seat, row, col)
        assert game.winner in (0, 1)
        assert game.move <= 2 * SIZE * SIZE


def test_the_hunting_bot_beats_random_shooting_on_average() -> None:
    rng = random.Random(3)
    moves = []
    for _ in range(30):
        game = Game(code="SOLO")
        game.seat_joined("b")
        game.place(0, random_fleet(rng))
        game.place(1, random_fleet(rng))
        shots = 0
        while not game.boards[1].all_sunk():
            row, col = choose_shot(game.view(0)["boards"][1], rng)
            game.turn, game.phase = 0, "playing"
            game.fire(0, row, col)
            shots += 1
        moves.append(shots)
    # Random shooting needs about 96 shots on average; hunt/target needs far fewer.
    assert sum(moves) / len(moves) < 70
