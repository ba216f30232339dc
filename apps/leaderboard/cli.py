"""`stackyard leaderboard ...`: maintenance of the Redis ranking index."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

cli = typer.Typer(help="Leaderboard maintenance (the Redis index of the boards).")
console = Console()
err = Console(stderr=True)


@cli.callback()
def leaderboard() -> None:
    """Leaderboard maintenance commands."""


@cli.command("rebuild")
def rebuild_command(
    game: str = typer.Option(
        "", "--game", help="Rebuild one game (a high_first game brings its global partners)."
    ),
) -> None:
    """Rebuild every board (or one game's) in Redis from the score history in the database."""
    from apps.kernel.errors import NotFound
    from apps.kernel.settings import SettingsError, load_settings

    try:
        load_settings()
    except SettingsError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    try:
        result = asyncio.run(_rebuild(game or None))
    except NotFound as exc:
        err.print(f"[red]error:[/] {exc.detail}")
        raise typer.Exit(2) from None
    summary = f"rebuilt {result.boards} boards of {len(result.games)} games"
    summary += f" from {result.rows} scores"
    if result.deferred_applied:
        summary += f"; applied {result.deferred_applied} submitted meanwhile"
    console.print(summary)


async def _rebuild(game: str | None):  # type: ignore[no-untyped-def]
    from apps.kernel import db
    from apps.kernel.cache import close_redis, get_redis
    from apps.leaderboard.rebuild import rebuild

    columns = (
        TextColumn("replaying scores"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("replay", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            return await rebuild(get_redis(), game, advance)
    finally:
        await close_redis()
        await db.dispose_engines()
