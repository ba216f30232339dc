"""`stackyard polls watch|vote|create|open|close`: live polls from the terminal.

`watch ID` draws the poll as a bar chart that changes as the server pushes tallies (Rich Live,
redrawn only when a message arrives) and exits 0 when the poll closes. The server comes from
--server / STACKYARD_URL; signed-in commands use --token / STACKYARD_TOKEN; anonymous ballots
use a device token kept in ~/.config/stackyard (or --device / POLLS_DEVICE_TOKEN).
Exit codes: 0 done, 1 the server refused or is unreachable, 2 bad usage.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.live import Live

from apps.polls.client import (
    BadServerURL,
    LiveResults,
    PollBoard,
    Refused,
    WatchOptions,
    device_token,
    follow,
    live_url,
)

cli = typer.Typer(help="Live polls: watch results as they change, vote, create and close polls.")
console = Console()
err = Console(stderr=True)

ServerOption = typer.Option(
    "http://127.0.0.1:8000", "--server", envvar="STACKYARD_URL", help="The Stackyard server."
)
TokenOption = typer.Option(
    None, "--token", envvar="STACKYARD_TOKEN", help="An access token, to act signed in."
)
DeviceOption = typer.Option(
    None,
    "--device",
    envvar="POLLS_DEVICE_TOKEN",
    help="Anonymous voter token (default: one kept in ~/.config/stackyard).",
)


@cli.callback()
def polls() -> None:
    """Live polls."""


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/] {message}")
    return typer.Exit(code)


def _request(
    method: str, server: str, path: str, *, token: str | None, device: str | None = None, **kw: Any
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if device:
        headers["X-Device-Token"] = device
    try:
        response = httpx.request(
            method, server.rstrip("/") + path, headers=headers, timeout=10, **kw
        )
    except httpx.InvalidURL:
        raise _fail(f"--server {server!r} is not a valid URL", 2) from None
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach {server} ({type(exc).__name__})") from None
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise _fail(f"{response.status_code}: {detail}")
    return response.json()


@cli.command()
def watch(
    poll_id: str = typer.Argument(..., metavar="ID", help="The poll's id."),
    server: str = ServerOption,
    token: str | None = TokenOption,
    device: str | None = DeviceOption,
    stay: bool = typer.Option(False, "--stay", help="Keep watching after the poll closes."),
) -> None:
    """Draw the poll's results live; exits when the poll closes (Ctrl-C leaves)."""
    try:
        url = live_url(server, poll_id, device or device_token())
    except BadServerURL as exc:
        raise _fail(str(exc), 2) from None
    try:
        code = asyncio.run(watch_poll(WatchOptions(url=url, token=token, stay=stay), console))
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


async def watch_poll(options: WatchOptions, out: Console) -> int:
    """Run the live chart until the poll closes; the exit status."""
    board = PollBoard()
    connection = LiveResults(options)
    with Live(board.render(), console=out, auto_refresh=False) as screen:
        follow(board, connection, lambda: screen.update(board.render(), refresh=True))
        try:
            await connection.run()
        except Refused as exc:
            board.note = str(exc)
            screen.update(board.render(), refresh=True)
            return 1
    return 0


def _option_numbers(poll: dict[str, Any], picked: list[str]) -> list[int]:
    """Option numbers from numbers or (case-insensitive) option texts."""
    by_text = {o["text"].casefold(): o["number"] for o in poll["options"]}
    numbers = []
    for choice in picked:
        if choice.isdigit():
            numbers.append(int(choice))
        elif choice.casefold() in by_text:
            numbers.append(by_text[choice.casefold()])
        else:
            known = ", ".join(f"{o['number']} {o['text']}" for o in poll["options"])
            raise _fail(f"no option {choice!r}; choose from {known}", 2)
    return numbers


@cli.command()
def vote(
    poll_id: str = typer.Argument(..., metavar="ID", help="The poll's id."),
    options: list[str] = typer.Argument(..., metavar="OPTION...", help="Numbers or texts."),
    server: str = ServerOption,
    token: str | None = TokenOption,
    device: str | None = DeviceOption,
) -> None:
    """Cast (or change) your ballot: signed in with --token, else as this device."""
    poll = _request("GET", server, f"/polls/{poll_id}", token=token)
    numbers = _option_numbers(poll, options)
    voter_device = None if token else device or device_token()
    body = _request(
        "PUT",
        server,
        f"/polls/{poll_id}/vote",
        token=token,
        device=voter_device,
        json={"choices": numbers},
    )
    texts = {o["number"]: o["text"] for o in poll["options"]}
    picked = ", ".join(f"{n} ({texts[n]})" for n in body["choices"])
    console.print(f"{'voted' if body['first'] else 'changed your vote'}: {picked}")
    board = PollBoard(question=poll["question"], note="as of your vote")
    board.show_results(body, force=True)
    console.print(board.render())


@cli.command()
def create(
    question: str = typer.Argument(..., help="The question."),
    option: list[str] = typer.Option(..., "--option", "-o", help="An answer (2 to 10)."),
    multiple: bool = typer.Option(False, "--multiple", help="Voters may mark several."),
    visible: str = typer.Option(
        "live", "--visible", help="Results visible: live, after_vote or after_close."
    ),
    closes_in: float | None = typer.Option(
        None, "--closes-in", min=1, help="Close automatically after this many seconds."
    ),
    draft: bool = typer.Option(False, "--draft", help="Create closed to votes; open it later."),
    no_anonymous: bool = typer.Option(False, "--no-anonymous", help="Signed-in voters only."),
    server: str = ServerOption,
    token: str | None = TokenOption,
) -> None:
    """Create a poll (signed in); prints its id."""
    if not token:
        raise _fail("creating a poll needs --token (or STACKYARD_TOKEN)", 2)
    body: dict[str, Any] = {
        "question": question,
        "options": option,
        "kind": "multiple" if multiple else "single",
        "results_visible": visible,
        "open": not draft,
        "allow_anonymous": not no_anonymous,
    }
    if closes_in is not None:
        body["closes_at"] = (datetime.now(UTC) + timedelta(seconds=closes_in)).isoformat()
    poll = _request("POST", server, "/polls/", token=token, json=body)
    console.print(poll["id"])


def _set_status(action: str, poll_id: str, server: str, token: str | None) -> None:
    if not token:
        raise _fail(f"to {action} a poll, give --token (or STACKYARD_TOKEN)", 2)
    poll = _request("POST", server, f"/polls/{poll_id}/{action}", token=token)
    console.print(f"{poll['question']}: {poll['status']}")


@cli.command("open")
def open_poll(
    poll_id: str = typer.Argument(..., metavar="ID"),
    server: str = ServerOption,
    token: str | None = TokenOption,
) -> None:
    """Open a draft or closed poll for voting (its creator only)."""
    _set_status("open", poll_id, server, token)


@cli.command("close")
def close_poll(
    poll_id: str = typer.Argument(..., metavar="ID"),
    server: str = ServerOption,
    token: str | None = TokenOption,
) -> None:
    """Close a poll now (its creator only): everyone sees the results."""
    _set_status("close", poll_id, server, token)
