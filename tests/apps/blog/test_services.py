"""The blog services without HTTP: slugs (also under concurrent writers), tags, sort, search."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from apps.blog.models import Article
from apps.blog.services import (
    SLUG_MAX_LENGTH,
    ArticleQuery,
    BlogService,
    normalise_tags,
    parse_sort,
    search_words,
    slug_base,
)
from apps.kernel.errors import Invalid, Unauthorized
from apps.kernel.identity import CurrentUser

T = TypeVar("T")


def person(name: str = "Writer", role: str = "user") -> CurrentUser:
    return CurrentUser(
        id=uuid.uuid4(),
        email=f"{uuid.uuid4().hex[:8]}@example.com",
        display_name=name,
        role=role,
        session_id=None,
    )


def run(work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` on a fresh event loop, closing that loop's engine and Redis client after."""
    from apps.kernel import db
    from apps.kernel.cache import close_redis

    async def main() -> T:
        try:
            return await work()
        finally:
            await close_redis()
            await db.dispose_engines()

    return asyncio.run(main())


async def create(author: CurrentUser, **fields: object) -> Article:
    from apps.kernel import db

    async with db.session() as session:
        return await BlogService(session).create_article(author, fields)


async def listing(viewer: CurrentUser | None, query: ArticleQuery) -> tuple[list[Article], int]:
    from apps.kernel import db

    async with db.session() as session:
        return await BlogService(session).list_articles(viewer, query)


# ---- pure rules ----------------------------------------------------------------------------


def test_slug_base_comes_from_the_title():
    assert slug_base("Hello, World!") == "hello-world"
    assert slug_base("Crème brûlée à Paris") == "creme-brulee-a-paris"
    assert slug_base("!!! ???") == "article"
    long = slug_base("word " * 100)
    assert len(long) <= SLUG_MAX_LENGTH
    assert not long.endswith("-")


def test_tags_are_trimmed_lowercased_and_deduplicated():
    assert normalise_tags([" Web   Dev ", "python", "PYTHON"]) == ["python", "web dev"]
    with pytest.raises(Invalid) as blank:
        normalise_tags(["ok", "  "])
    assert blank.value.field == "tags"


def test_sort_is_validated():
    assert parse_sort("-published_at") == ("published_at", True)
    assert parse_sort("title") == ("title", False)
    for bad in ("", "-", "body", "--title", "id"):
        with pytest.raises(Invalid) as error:
            parse_sort(bad)
        assert error.value.field == "sort"


def test_search_needs_a_word():
    assert search_words("Hello, wörld!") == ["hello", "wörld"]
    with pytest.raises(Invalid) as error:
        search_words(" ?! ")
    assert error.value.field == "q"


# ---- against the database ------------------------------------------------------------------


def test_slug_suffixes_skip_unrelated_slugs_sharing_the_prefix(stack):
    title = f"Prefix {uuid.uuid4().hex[:8]}"
    author = person()

    async def work() -> list[str]:
        first = await create(author, title=title)
        longer = await create(author, title=f"{title} extended")
        second = await create(author, title=title)
        return [first.slug, longer.slug, second.slug]

    first, longer, second = run(work)
    assert longer == f"{first}-extended"
    assert second == f"{first}-2"


def test_concurrent_writers_of_one_title_get_distinct_slugs(stack):
    title = f"Race {uuid.uuid4().hex[:8]}"
    writers = [person(f"Writer {n}") for n in range(6)]

    async def work() -> list[str]:
        articles = await asyncio.gather(
            *(create(w, title=title, tags=["race", f"race-{n % 2}"]) for n, w in enumerate(writers))
        )
        return [a.slug for a in articles]

    slugs = run(work)
    base = slug_base(title)
    assert sorted(slugs) == sorted([base] + [f"{base}-{n}" for n in range(2, 7)])


def test_admin_lists_every_draft_and_anonymous_none(stack):
    tag = f"svc-{uuid.uuid4().hex[:8]}"
    alice, bob, admin = person("Alice"), person("Bob"), person("Admin", role="admin")
    drafts = ArticleQuery(tags=(tag,), status="draft")

    async def work() -> tuple[int, int, int]:
        await create(alice, title="a", tags=[tag])
        await create(bob, title="b", tags=[tag])
        await create(bob, title="c", tags=[tag], status="published")
        _, as_admin = await listing(admin, drafts)
        _, as_bob = await listing(bob, drafts)
        _, public = await listing(None, ArticleQuery(tags=(tag,)))
        return as_admin, as_bob, public

    assert run(work) == (2, 1, 1)
    with pytest.raises(Unauthorized) as error:
        run(lambda: listing(None, drafts))
    assert error.value.field == "status"


def test_all_tags_filter_counts_each_tag_once(stack):
    red, blue = f"red-{uuid.uuid4().hex[:8]}", f"blue-{uuid.uuid4().hex[:8]}"
    author = person()

    async def work() -> list[str]:
        await create(author, title="red only", tags=[red, red.upper()], status="published")
        await create(author, title="both", tags=[red, blue], status="published")
        found, _ = await listing(None, ArticleQuery(tags=(red, blue, red), match_all=True))
        return [a.title for a in found]

    assert run(work) == ["both"]
