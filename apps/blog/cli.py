"""`stackyard blog seed`: fill the blog with published demo articles for benchmarks."""

from __future__ import annotations

import asyncio
import uuid

import typer
from rich.console import Console
from rich.progress import Progress

from apps.blog.listing_cache import listings
from apps.blog.services import seed_published_articles

cli = typer.Typer(help="The blog app's maintenance commands.", no_args_is_help=True)
console = Console()


@cli.callback()
def blog() -> None:
    """Personal blogging platform: maintenance commands."""


@cli.command()
def seed(
    articles: int = typer.Option(10_000, "--articles", min=1, max=1_000_000),
    tags: int = typer.Option(50, "--tags", min=1, max=1_000, help="Distinct tags to spread."),
    batch: int = typer.Option(1_000, "--batch", min=1, max=10_000, help="Rows per commit."),
) -> None:
    """Insert published demo articles (3 tags each) by one demo author, in batches."""
    run = uuid.uuid4().hex[:8]
    tag_names = [f"seed-{n}" for n in range(tags)]
    author_id = uuid.uuid4()
    asyncio.run(_seed(run, articles, batch, tag_names, author_id))
    console.print(f"seeded {articles} articles (slugs seed-{run}-N) by author {author_id}")


async def _seed(
    run: str, total: int, batch: int, tag_names: list[str], author_id: uuid.UUID
) -> None:
    from apps.kernel import db
    from apps.kernel.cache import close_redis, get_redis

    try:
        with Progress(console=console) as progress:
            task = progress.add_task("seeding articles", total=total)
            for start in range(0, total, batch):
                count = min(batch, total - start)
                async with db.session() as session:
                    await seed_published_articles(
                        session,
                        run=run,
                        start=start,
                        count=count,
                        tags=tag_names,
                        author_id=author_id,
                        author_name="Demo Author",
                    )
                progress.advance(task, count)
        await listings.invalidate(get_redis())
    finally:
        await close_redis()
        await db.dispose_engines()
