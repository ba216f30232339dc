"""Through a real `stackyard serve`: twenty bot-vs-bot games, and a game that survives a restart."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apps.battleship.bot import choose_shot
from apps.battleship.client import GameSocket, Referee, bot_match
from tests.apps.battleship.helpers import FLEET_A, FLEET_B
from tests.support.servers import LiveServer, live_server

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]


def server_env(stack: Any) -> dict[str, str]:
    return {**stack.env, "STACKYARD_EMBEDDED_WORKER": "false"}


@pytest.fixture(scope="module")
def game_server(stack: Any) -> Iterator[LiveServer]:
    with live_server(stack.data_dir, env=server_env(stack), migrate=False) as server:
        yield server


def test_twenty_bot_games_finish_with_no_illegal_state(game_server: LiveServer) -> None:
    async def play() -> list[Any]:
        rng = random.Random(20)
        matches = [bot_match(game_server.url, random.Random(rng.random())) for _ in range(20)]
        return await asyncio.gather(*matches)

    results = asyncio.run(play())
    assert len(results) == 20
    for result in results:
        assert result.problems == [], (result.code, result.problems)
        assert result.winner in (0, 1)
        assert 17 <= result.moves <= 200


async def seat_and_place(url: str) -> tuple[str, list[str], list[GameSocket]]:
    a, b = await GameSocket.open(url), await GameSocket.open(url)
    await a.send({"type": "create", "name": "Alice", "public": False})
    created = await a.expect("joined")
    await b.send({"type": "join", "game": created["game"], "name": "Bob"})
    joined = await b.expect("joined")
    await a.send({"type": "place", "ships": FLEET_A})
    await b.send({"type": "place", "ships": FLEET_B})
    for sock in (a, b):  # both see the game start
        while (await sock.expect("update"))["state"]["phase"] != "playing":
            pass
    return created["game"], [created["token"], joined["token"]], [a, b]


async def next_move(sock: GameSocket, referee: Referee, move: int) -> dict[str, Any]:
    while True:
        frame = await sock.expect("update")
        referee.check(frame)
        if frame["state"]["move"] == move:
            return dict(frame["state"])


async def fire_until(
    players: list[GameSocket], state: dict[str, Any], stop: int | None
) -> dict[str, Any]:
    """Alternate hunt/target shots until move `stop` (or the end); every frame refereed."""
    referees = [Referee(0), Referee(1)]
    while state["phase"] == "playing" and (stop is None or state["move"] < stop):
        seat = state["turn"]
        row, col = choose_shot(state["boards"][1 - seat])
        await players[seat].send({"type": "fire", "row": row, "col": col, "move": state["move"]})
        after = [
            await next_move(sock, referees[i], state["move"] + 1) for i, sock in enumerate(players)
        ]
        state = after[seat]
    assert referees[0].problems == referees[1].problems == []
    return state


async def open_codes(url: str) -> list[str]:
    sock = await GameSocket.open(url)
    await sock.send({"type": "list"})
    games = (await sock.expect("games"))["games"]
    await sock.close()
    return [game["game"] for game in games]


def test_a_restarted_server_resumes_the_game_where_it_stopped(stack: Any, tmp_path: Path) -> None:
    grace = 4.0
    env = {**server_env(stack), "BATTLESHIP_GRACE_SECONDS": str(grace)}
    abandoned: list[str] = []

    async def before_restart(url: str) -> tuple[str, list[str], dict[str, Any]]:
        host = await GameSocket.open(url)  # stays connected until the server stops
        await host.send({"type": "create", "name": "Gone"})
        abandoned.append((await host.expect("joined"))["game"])
        code, tokens, players = await seat_and_place(url)
        state = players[0].frames[-1]["state"]
        await fire_until(players, state, stop=10)
        state = players[0].frames[-1]["state"]  # seat 0's view at move 10
        for sock in players:
            await sock.close()
        assert abandoned[0] in await open_codes(url)
        return code, tokens, state

    async def after_restart(url: str, code: str, tokens: list[str]) -> dict[str, Any]:
        players = [await GameSocket.open(url), await GameSocket.open(url)]
        states = []
        for seat, sock in enumerate(players):
            await sock.send({"type": "resume", "game": code, "token": tokens[seat]})
            resumed = await sock.expect("joined")
            assert resumed["seat"] == seat
            states.append(resumed["state"])
        final = await fire_until(players, states[0], stop=None)
        for sock in players:
            await sock.close()
        return {"resumed": states[0], "final": final}

    with live_server(stack.data_dir, env=env, migrate=False) as first:
        code, tokens, paused = asyncio.run(before_restart(first.url))
    with live_server(stack.data_dir, env=env, migrate=False) as second:
        outcome = asyncio.run(after_restart(second.url, code, tokens))
        # Nobody came back to the open game: its grace ran out after the restart.
        time.sleep(grace + 0.5)
        assert abandoned[0] not in asyncio.run(open_codes(second.url))
    resumed = outcome["resumed"]
    assert resumed["move"] == paused["move"] == 10
    assert resumed["boards"] == paused["boards"] and resumed["turn"] == paused["turn"]
    assert outcome["final"]["phase"] == "finished"
    assert outcome["final"]["reason"] == "all ships sunk"


def test_the_terminal_client_plays_a_whole_game_against_the_bot(game_server: LiveServer) -> None:
    from typer.testing import CliRunner

    from apps.battleship.cli import cli

    result = CliRunner().invoke(cli, ["play", "--vs-bot", "--auto", "--url", game_server.url])
    assert result.exit_code in (0, 3), result.output
    assert "all ships sunk" in result.output
    assert "Your waters" in result.output and "bot's waters" in result.output
