"""`stackyard reviews ...`: rebuild the Redis leaderboard from the database, try the analyser."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console
from rich.progress import Progress

from apps.kernel.settings import SettingsError, load_settings

cli = typer.Typer(help="Restaurant reviews: leaderboard maintenance and the sentiment analyser.")
console = Console()
err = Console(stderr=True)


async def _rebuild(analyse_pending: bool) -> tuple[int, int | None]:
    from sqlalchemy import func, select

    from apps.kernel import db
    from apps.kernel.cache import close_redis, get_redis
    from apps.kernel.settings import get_settings
    from apps.reviews import leaderboard
    from apps.reviews.models import Restaurant
    from apps.reviews.services import all_standings
    from apps.reviews.services import analyse_pending as analyse_pending_reviews

    try:
        analysed = 0
        if analyse_pending:
            async with db.session() as session:
                analysed = await analyse_pending_reviews(session)
        if get_settings().embedded:
            return analysed, None
        async with db.session() as session:
            total = int(await session.scalar(select(func.count()).select_from(Restaurant)) or 0)
            with Progress(console=console, transient=True) as progress:
                bar = progress.add_task("ranking restaurants", total=total)
                ranked = await leaderboard.rebuild(
                    get_redis(),
                    all_standings(session),
                    on_progress=lambda n: progress.advance(bar, n),
                )
        return analysed, ranked
    finally:
        await close_redis()
        await db.dispose_engines()


@cli.command()
def rebuild(
    analyse_pending: bool = typer.Option(
        True, help="First analyse reviews whose analysis task was lost (still pending)."
    ),
) -> None:
    """Rebuild the leaderboard sorted sets in Redis from the reviews in the database."""
    from apps.kernel.settings import reset_settings

    try:
        load_settings()
    except SettingsError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    reset_settings()
    analysed, ranked = asyncio.run(_rebuild(analyse_pending))
    if analyse_pending:
        console.print(f"analysed {analysed} pending reviews")
    if ranked is None:
        console.print(
            "no REDIS_URL: the embedded Redis lives inside the server, "
            "which rebuilds its leaderboard from the database when it starts"
        )
        return
    console.print(f"leaderboard rebuilt: {ranked} restaurants ranked")


@cli.command()
def analyse(
    text: str = typer.Argument(..., help="A review sentence."),
    plain: bool = typer.Option(False, "--plain", help="VADER alone, without the domain layer."),
) -> None:
    """Print the sentiment label and compound score the platform would store for TEXT."""
    from apps.reviews.sentiment import analyser

    result = analyser(domain=not plain).analyse(text)
    console.print(f"{result.label} {result.compound:+.4f}", highlight=False)
