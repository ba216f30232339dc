"""The blog API at /blog: public reading, author writing."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import Provide
from litestar.params import Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from apps.blog.listing_cache import listings
from apps.blog.models import PUBLISHED, Article
from apps.blog.schemas import ArticleCreate, ArticlePatch, ArticleRead, ArticleReplace, TagCount
from apps.blog.services import MAX_TAGS, ArticleQuery, BlogService
from apps.kernel.cache import get_redis
from apps.kernel.errors import Invalid
from apps.kernel.identity import optional_user, requires_user, signed_in_user
from apps.kernel.pagination import MAX_PAGE_SIZE, Page, make_page
from apps.kernel.settings import get_settings


async def provide_blog(db_session: AsyncSession) -> BlogService:
    return BlogService(db_session)


def article_read(article: Article) -> ArticleRead:
    return ArticleRead(
        id=article.id,
        slug=article.slug,
        title=article.title,
        body=article.body,
        status=article.status,
        tags=[tag.name for tag in article.tags],
        author_id=article.author_id,
        author_name=article.author_name,
        published_at=article.published_at,
        created_at=article.created_at,
        updated_at=article.updated_at,
    )


def parse_moment(field: str, raw: str | None) -> datetime | None:
    """An ISO 8601 date or date-time from the query string; Invalid naming `field` otherwise."""
    if raw is None or raw == "":
        return None
    try:
        return datetime.fromisoformat(raw.strip())
    except ValueError:
        raise Invalid(
            field, f"{raw!r} is not an ISO 8601 date or date-time (e.g. 2024-05-01T12:00:00Z)"
        ) from None


def _cache_scope(listing: str) -> tuple[str, str]:
    """Cached pages are told apart by database, so two stacks in one process never mix."""
    return get_settings().database_url, listing


async def _committed(db_session: AsyncSession) -> None:
    """Commit a write now, then invalidate the shared listings (never before the commit)."""
    await db_session.commit()
    await listings.invalidate(get_redis())


PageNumber = Parameter(ge=1, le=1_000_000, default=1, description="1-based page number")
PageSize = Parameter(ge=1, le=MAX_PAGE_SIZE, default=20, description="Items per page (max 100)")


class ArticleController(Controller):
    """Articles: anyone reads published ones; authors write their own, admins any."""

    path = "/articles"
    dependencies = {"blog": Provide(provide_blog)}

    @get("/", operation_id="ListArticles")
    async def list_articles(
        self,
        request: Request[Any, Any, Any],
        blog: BlogService,
        page: int = PageNumber,
        page_size: int = PageSize,
        tag: list[str] | None = Parameter(
            default=None,
            max_items=MAX_TAGS,
            description="Repeatable: articles carrying these tags (see `match`)",
        ),
        match: Literal["any", "all"] = Parameter(
            default="any", description="`any` of the tags (default) or `all` of them"
        ),
        status: Literal["published", "draft"] = Parameter(
            default="published", description="`draft` lists your own drafts (all, for admins)"
        ),
        q: str | None = Parameter(
            default=None,
            min_length=1,
            max_length=200,
            description="Words that must all appear in the title or body (case-insensitive)",
        ),
        sort: str = Parameter(
            default="-published_at",
            description="published_at, created_at, updated_at or title; prefix - for descending",
        ),
        published_after: str | None = Parameter(
            default=None, description="ISO date/date-time; published at or after (inclusive)"
        ),
        published_before: str | None = Parameter(
            default=None, description="ISO date/date-time; published strictly before"
        ),
        author_id: UUID | None = Parameter(default=None, description="Only this author's"),
    ) -> Page[ArticleRead]:
        """Articles matching every filter given, one page at a time, with the total count."""
        query = ArticleQuery(
            tags=tuple(tag or ()),
            match_all=match == "all",
            status=status,
            published_after=parse_moment("published_after", published_after),
            published_before=parse_moment("published_before", published_before),
            text=q,
            author_id=author_id,
            sort=sort,
            page=page,
            page_size=page_size,
        )
        viewer = optional_user(request)
        # Published listings look the same to everyone, so they are shared (see listing_cache).
        shared = query.status == PUBLISHED
        key = await listings.key(get_redis(), *_cache_scope("articles"), query) if shared else None
        cached = listings.get(key)
        if cached is None:
            articles, total = await blog.list_articles(viewer, query)
            cached = ([article_read(a) for a in articles], total)
            listings.put(key, cached)
        items, total = cached
        return make_page(request, items, total=total, page=page, page_size=page_size)

    @post("/", operation_id="CreateArticle", guards=[requires_user], status_code=HTTP_201_CREATED)
    async def create_article(
        self,
        request: Request[Any, Any, Any],
        data: ArticleCreate,
        blog: BlogService,
        db_session: AsyncSession,
    ) -> Response[ArticleRead]:
        """Write an article as the signed-in user; its slug comes from the title."""
        article = await blog.create_article(signed_in_user(request), msgspec.structs.asdict(data))
        await _committed(db_session)
        return Response(
            article_read(article),
            status_code=HTTP_201_CREATED,
            headers={"Location": f"{request.url.path.rstrip('/')}/{article.id}"},
        )

    @get("/{article_id:uuid}", operation_id="GetArticle")
    async def get_article(
        self, request: Request[Any, Any, Any], blog: BlogService, article_id: UUID
    ) -> ArticleRead:
        """One article; drafts are found only by their author (and admins)."""
        return article_read(await blog.get_article(optional_user(request), article_id))

    @get("/by-slug/{slug:str}", operation_id="GetArticleBySlug")
    async def get_article_by_slug(
        self, request: Request[Any, Any, Any], blog: BlogService, slug: str
    ) -> ArticleRead:
        """One article by its slug, under the same visibility as by id."""
        return article_read(await blog.get_by_slug(optional_user(request), slug))

    @put("/{article_id:uuid}", operation_id="ReplaceArticle", guards=[requires_user])
    async def replace_article(
        self,
        request: Request[Any, Any, Any],
        blog: BlogService,
        db_session: AsyncSession,
        article_id: UUID,
        data: ArticleReplace,
    ) -> ArticleRead:
        """Replace every field; only the author or an admin may."""
        changes = msgspec.structs.asdict(data)
        if changes["published_at"] is None:
            del changes["published_at"]
        article = await blog.update_article(signed_in_user(request), article_id, changes)
        await _committed(db_session)
        return article_read(article)

    @patch("/{article_id:uuid}", operation_id="UpdateArticle", guards=[requires_user])
    async def update_article(
        self,
        request: Request[Any, Any, Any],
        blog: BlogService,
        db_session: AsyncSession,
        article_id: UUID,
        data: ArticlePatch,
    ) -> ArticleRead:
        """Change only the fields sent; only the author or an admin may."""
        changes = {
            key: value
            for key, value in msgspec.structs.asdict(data).items()
            if value is not msgspec.UNSET
        }
        article = await blog.update_article(signed_in_user(request), article_id, changes)
        await _committed(db_session)
        return article_read(article)

    @delete(
        "/{article_id:uuid}",
        operation_id="DeleteArticle",
        guards=[requires_user],
        status_code=HTTP_204_NO_CONTENT,
    )
    async def delete_article(
        self,
        request: Request[Any, Any, Any],
        blog: BlogService,
        db_session: AsyncSession,
        article_id: UUID,
    ) -> None:
        """Delete an article; only the author or an admin may."""
        await blog.delete_article(signed_in_user(request), article_id)
        await _committed(db_session)


class TagController(Controller):
    """Tags and how many published articles carry each."""

    path = "/tags"
    dependencies = {"blog": Provide(provide_blog)}

    @get("/", operation_id="ListTags")
    async def list_tags(
        self,
        request: Request[Any, Any, Any],
        blog: BlogService,
        page: int = PageNumber,
        page_size: int = PageSize,
    ) -> Page[TagCount]:
        """Tags with the number of published articles carrying each, most used first."""
        key = await listings.key(get_redis(), *_cache_scope("tags"), page, page_size)
        cached = listings.get(key)
        if cached is None:
            usage, total = await blog.tag_usage(page=page, page_size=page_size)
            cached = ([TagCount(name=u.name, count=u.count) for u in usage], total)
            listings.put(key, cached)
        items, total = cached
        return make_page(request, items, total=total, page=page, page_size=page_size)
