"""The terminal client's pieces: cell names, the boards it draws, its usage errors."""

from __future__ import annotations

import pytest
from rich.console import Console
from typer.testing import CliRunner

from apps.battleship.cli import SHIP, cli, render
from apps.battleship.client import parse_cell, socket_url
from apps.battleship.engine import Game
from tests.apps.battleship.helpers import FLEET_A, FLEET_B


def test_cells_are_named_by_row_letter_and_column_number() -> None:
    assert parse_cell("a1") == (0, 0)
    assert parse_cell(" J10 ") == (9, 9)
    for bad in ("K1", "A0", "A11", "", "7B"):
        with pytest.raises(ValueError):
            parse_cell(bad)


def test_socket_urls_come_from_the_server_url() -> None:
    assert socket_url("http://127.0.0.1:8000") == "ws://127.0.0.1:8000/battleship/ws"
    assert socket_url("https://example.org/") == "wss://example.org/battleship/ws"
    with pytest.raises(ValueError):
        socket_url("ftp://example.org")


def drawn(seat: int) -> str:
    game = Game(code="DRAW")
    game.names = ["Alice", "Bob"]
    game.seat_joined("Bob")
    game.place(0, FLEET_A)
    game.place(1, FLEET_B)
    game.fire(0, 0, 9)
    console = Console(width=120, record=True, color_system=None)
    console.print(render(game.view(seat)))
    return console.export_text()


def test_the_boards_show_your_fleet_and_only_your_hits_on_theirs() -> None:
    text = drawn(0)
    assert "Your waters (Alice)" in text and "Bob's waters" in text
    # 17 ship cells on A's own board, none on the drawing of Bob's waters (one hit shown).
    lines = [
        line for line in text.splitlines() if line[:2].strip() in "ABCDEFGHIJ" and line.strip()
    ]
    own = sum(line[: len(line) // 2].count(SHIP) for line in lines)
    theirs = sum(line[len(line) // 2 :].count(SHIP) for line in lines)
    assert (own, theirs) == (17, 0)


def test_conflicting_options_are_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["play", "--vs-bot", "--quick"])
    assert result.exit_code == 2
    result = CliRunner().invoke(cli, ["play", "--resume", "ABCDEF"])
    assert result.exit_code == 2 and "--token" in result.output
