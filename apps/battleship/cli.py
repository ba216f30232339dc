"""`stackyard battleship play`: both boards in the terminal, against a person or the bot.

    stackyard battleship play --vs-bot          a private game against the hunt/target bot
    stackyard battleship play                   open a public game and wait (share the code)
    stackyard battleship play --join K7PQ2M     join a game by its code
    stackyard battleship play --quick           join any open game, or open one
    stackyard battleship play --resume K7PQ2M --token ...   take your seat back

Your fleet is placed at random (shown before the first shot). Fire with a cell such as B7
(rows A-J, columns 1-10); `q` resigns. Exit codes: 0 you won, 3 you lost or the game was
called off, 1 the server could not be reached or refused, 2 bad usage.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

import typer
from rich.columns import Columns
from rich.console import Console
from rich.table import Table
from rich.text import Text

from apps.battleship.bot import choose_shot, random_fleet
from apps.battleship.client import GameSocket, Referee, ServerRefused, parse_cell, play_seat
from apps.battleship.engine import SIZE, parse_fleet

cli = typer.Typer(
    help="Battleship: play in the terminal against a person or the bot.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

WATER, SHIP, HIT, MISS, SUNK = "·", "■", "✖", "○", "▒"


def board_grid(board: dict[str, Any], title: str, *, own: bool) -> Table:
    """One 10x10 board: your ships on your side; on theirs only what your shots revealed."""
    placed = board.get("ships") if own else None
    ships = {cell for ship in parse_fleet(placed) for cell in ship.cells} if placed else set()
    shots = {(r, c): kind for r, c, kind in board["shots"]}
    sunk = {tuple(cell) for ship in board["sunk"] for cell in ship["cells"]}
    table = Table(title=title, show_lines=False, box=None, padding=(0, 1))
    table.add_column("")
    for col in range(SIZE):
        table.add_column(str(col + 1), justify="center")
    for row in range(SIZE):
        cells = []
        for col in range(SIZE):
            cell = (row, col)
            if cell in sunk:
                cells.append(Text(SUNK, style="bold red"))
            elif shots.get(cell) == "hit":
                cells.append(Text(HIT, style="red"))
            elif shots.get(cell) == "miss":
                cells.append(Text(MISS, style="cyan"))
            elif cell in ships:
                cells.append(Text(SHIP, style="white"))
            else:
                cells.append(Text(WATER, style="blue"))
        table.add_row(chr(ord("A") + row), *cells)
    return table


def render(state: dict[str, Any]) -> Columns:
    """Both boards side by side, from the point of view of seat `state['you']`."""
    me = state["you"]
    names = state["names"]
    if me is None:
        return Columns(
            [board_grid(state["boards"][i], names[i] or f"seat {i}", own=False) for i in (0, 1)]
        )
    theirs = names[1 - me] or "opponent"
    return Columns(
        [
            board_grid(state["boards"][me], f"Your waters ({names[me]})", own=True),
            board_grid(state["boards"][1 - me], f"{theirs}'s waters", own=False),
        ]
    )


def status_line(state: dict[str, Any], event: dict[str, Any] | None) -> str:
    me = state["you"]
    parts = []
    if event and event.get("kind") == "shot":
        who = "You" if event["seat"] == me else state["names"][event["seat"]] or "They"
        what = f"sank the {event['ship']}" if event["result"] == "sunk" else event["result"]
        parts.append(f"{who} fired at {chr(ord('A') + event['row'])}{event['col'] + 1}: {what}.")
    if state["phase"] == "finished":
        verdict = (
            "You won!"
            if state["winner"] == me
            else "You lost."
            if state["winner"] is not None
            else "No winner."
        )
        parts.append(f"{verdict} ({state['reason']})")
    elif state["phase"] == "playing":
        parts.append("Your turn." if state["turn"] == me else "Their turn...")
    elif state["phase"] == "placing":
        parts.append("Waiting for both fleets...")
    else:
        parts.append(f"Waiting for an opponent: game code {state['game']}")
    return " ".join(parts)


async def ask(prompt: str) -> str:
    """A line from the terminal; end of input reads as `q` (resign)."""
    try:
        line = await asyncio.to_thread(lambda: input(prompt))
    except EOFError:
        return "q"
    return line.strip()


async def bot_opponent(url: str, code: str) -> None:
    rng = random.Random()
    bot = await GameSocket.open(url)
    try:
        await bot.send({"type": "join", "game": code, "name": "bot"})
        joined = await bot.expect("joined")
        await play_seat(bot, 1, joined, rng, Referee(1))
    finally:
        await bot.close()


async def play_game(
    url: str,
    request: dict[str, Any],
    *,
    vs_bot: bool,
    auto: bool,
) -> int:
    sock = await GameSocket.open(url)
    bot: asyncio.Task[None] | None = None
    try:
        await sock.send(request)
        joined = await sock.expect("joined")
        seat, state = joined["seat"], joined["state"]
        if "token" in joined:
            out.print(
                f"game [bold]{joined['game']}[/], seat {seat}; to resume: --resume "
                f"{joined['game']} --token {joined['token']}"
            )
        if vs_bot:
            bot = asyncio.create_task(bot_opponent(url, joined["game"]))
        if not state["boards"][seat]["placed"] and state["phase"] in ("waiting", "placing"):
            await place_when_seated(sock, state)
        event: dict[str, Any] | None = None
        shown = -1
        while True:
            if state["move"] != shown or event is not None:
                out.print(render(state))
                out.print(status_line(state, event))
                shown = state["move"]
            if state["phase"] == "finished":
                return 0 if state["winner"] == seat else 3
            my_turn = state["phase"] == "playing" and state["turn"] == seat
            if my_turn and not await take_turn(sock, state, auto):
                continue
            frame = await sock.frame(wait=3600)
            if frame["type"] == "error":
                out.print(f"[red]refused:[/] {frame['detail']}")
                continue
            if frame["type"] == "update":
                state, event = frame["state"], frame.get("event")
                if event and event.get("kind") == "presence":
                    who = state["names"][event["seat"]]
                    out.print(f"{who} {'is back' if event['connected'] else 'disconnected'}.")
                    event = None
    finally:
        if bot is not None:
            bot.cancel()
            with contextlib.suppress(BaseException):
                await bot
        await sock.close()


async def place_when_seated(sock: GameSocket, state: dict[str, Any]) -> None:
    """Place a random fleet once an opponent has joined (the server refuses it before)."""
    while state["phase"] == "waiting":
        out.print(status_line(state, None))
        frame = await sock.expect("update", wait=3600)
        state = frame["state"]
    await sock.send({"type": "place", "ships": random_fleet()})


async def take_turn(sock: GameSocket, state: dict[str, Any], auto: bool) -> bool:
    """Send this seat's shot; False when the input was not a shot (asked again)."""
    if auto:
        row, col = choose_shot(state["boards"][1 - state["you"]])
    else:
        # Keep reading (and answering pings) while the player thinks.
        text = await sock.listen_while(asyncio.ensure_future(ask("fire at (e.g. B7, q resigns): ")))
        if text.lower() in ("q", "quit", "resign"):
            await sock.send({"type": "resign"})
            return True
        try:
            row, col = parse_cell(text)
        except ValueError as exc:
            out.print(f"[yellow]{exc}[/]")
            return False
    await sock.send({"type": "fire", "row": row, "col": col, "move": state["move"]})
    return True


@cli.callback()
def battleship() -> None:
    """Battleship over /battleship/ws: play against a person or the bot."""


@cli.command()
def play(
    url: str = typer.Option(
        "http://127.0.0.1:8000", "--url", envvar="STACKYARD_URL", help="The Stackyard server."
    ),
    vs_bot: bool = typer.Option(False, "--vs-bot", help="Play a private game against the bot."),
    join: str | None = typer.Option(None, "--join", help="Join the game with this code."),
    quick: bool = typer.Option(False, "--quick", help="Join any open game, or open one."),
    resume: str | None = typer.Option(None, "--resume", help="Take your seat back in this game."),
    token: str | None = typer.Option(None, "--token", help="The seat token (with --resume)."),
    name: str = typer.Option("player", "--name", help="The name your opponent sees."),
    auto: bool = typer.Option(False, "--auto", help="Let the bot choose your shots too."),
) -> None:
    """Play Battleship against a person or (--vs-bot) the hunt/target bot."""
    if sum(bool(flag) for flag in (vs_bot, join, quick, resume)) > 1:
        err.print("[red]error:[/] choose one of --vs-bot, --join, --quick, --resume")
        raise typer.Exit(2)
    if resume and not token:
        err.print("[red]error:[/] --resume needs --token")
        raise typer.Exit(2)
    request: dict[str, Any] = {"type": "create", "name": name, "public": not vs_bot}
    if join:
        request = {"type": "join", "game": join, "name": name}
    elif quick:
        request = {"type": "quick", "name": name}
    elif resume:
        request = {"type": "resume", "game": resume, "token": token}
    try:
        code = asyncio.run(play_game(url, request, vs_bot=vs_bot, auto=auto))
    except ServerRefused as exc:
        err.print(f"[red]refused:[/] {exc}")
        raise typer.Exit(1) from None
    except (OSError, TimeoutError, ValueError) as exc:
        err.print(f"[red]error:[/] cannot play on {url}: {exc}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(3) from None
    raise typer.Exit(code)
