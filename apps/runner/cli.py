"""`stackyard run FILE`: run a program in the platform's sandbox and stream its output.

The program's stdout and stderr arrive live over the WebSocket; a summary (status, exit
code, limit hit, times) goes to stderr at the end, and the command exits with the
program's exit code (128 + N if a signal N killed it, 1 if the run failed). Ctrl-C cancels
the execution. Exit code 2: bad usage; 3: the server refused or is unreachable.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console

from apps.runner.client import Refused, follow, language_of, stream_url

COMMAND_NAME = "run"
cli = typer.Typer(help="Run a program in the sandbox and stream its output.")
err = Console(stderr=True)


def submit(server: str, token: str, payload: dict[str, Any]) -> str:
    response = httpx.post(
        f"{server.rstrip('/')}/runner/executions",
        json=payload,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    if response.status_code != 202:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise Refused(f"{response.status_code}: {detail}")
    return str(response.json()["id"])


def cancel(server: str, token: str, execution_id: str) -> None:
    httpx.delete(
        f"{server.rstrip('/')}/runner/executions/{execution_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


@cli.command()
def run(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    stdin_file: Path | None = typer.Option(
        None, "--stdin", exists=True, dir_okay=False, help="A file to feed as standard input."
    ),
    cpu: float | None = typer.Option(None, "--cpu", help="CPU seconds (default 5, max 15)."),
    wall: float | None = typer.Option(None, "--wall", help="Wall seconds (default 10, max 20)."),
    server: str = typer.Option(
        "http://127.0.0.1:8000", "--server", envvar="STACKYARD_URL", help="The server."
    ),
    token: str = typer.Option(
        ..., "--token", envvar="STACKYARD_TOKEN", help="An access token (POST /auth/login)."
    ),
) -> None:
    """Run FILE (.py) in the sandbox; its output streams here as it is produced."""
    language = language_of(file.name)
    if language is None:
        err.print(f"[red]error:[/] cannot tell the language of {file.name} (use .py)")
        raise typer.Exit(2)
    limits = {k: v for k, v in (("cpu_time_s", cpu), ("wall_time_s", wall)) if v is not None}
    payload: dict[str, Any] = {
        "language": language,
        "source": file.read_text(encoding="utf-8", errors="replace"),
        "stdin": stdin_file.read_text(encoding="utf-8", errors="replace") if stdin_file else "",
    }
    if limits:
        payload["limits"] = limits
    from websockets.sync.client import connect

    try:
        execution_id = submit(server, token, payload)
        url = stream_url(server, execution_id)
        with connect(url, subprotocols=["bearer", token], open_timeout=10) as socket:  # type: ignore[list-item]
            try:
                outcome = follow(lambda: str(socket.recv()), sys.stdout, sys.stderr)
            except KeyboardInterrupt:
                cancel(server, token, execution_id)
                err.print("[yellow]cancelled[/]")
                raise typer.Exit(130) from None
    except (Refused, httpx.HTTPError, OSError, ValueError) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(3) from exc
    err.print(f"[dim]{outcome.summary()}[/]")
    raise typer.Exit(outcome.exit_code)
