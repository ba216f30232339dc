"""Blog domain logic: who sees which article, slugs, tags, filtering and sorting.

No HTTP objects here; routes pass the signed-in user (or None) and plain values.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from slugify import slugify
from sqlalchemy import ColumnElement, Select, and_, func, insert, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import UnaryExpression

from apps.blog.models import (
    DRAFT,
    PUBLISHED,
    SEARCH_CONFIG,
    STATUSES,
    Article,
    Tag,
    article_tag,
    search_document,
)
from apps.kernel.errors import Conflict, Invalid, NotFound, Unauthorized
from apps.kernel.identity import CurrentUser, ensure_owner

SLUG_MAX_LENGTH = 200
SLUG_ATTEMPTS = 25
TAG_MAX_LENGTH = 50
MAX_TAGS = 20
SORT_KEYS = ("published_at", "created_at", "updated_at", "title")
EDITABLE = frozenset({"title", "body", "tags", "status", "published_at"})
_WORD = re.compile(r"\w+", re.UNICODE)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime, *, field: str = "published_at") -> datetime:
    """The moment in UTC (naive ones are taken as UTC); Invalid naming `field` if out of range."""
    try:
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (OverflowError, ValueError):
        raise Invalid(field, "The date is out of range") from None


def slug_base(title: str) -> str:
    """The slug a title asks for before collisions are resolved (`article` if nothing is left)."""
    return slugify(title, max_length=SLUG_MAX_LENGTH, word_boundary=True) or "article"


def normalise_tag(raw: str, *, field: str = "tags") -> str:
    """Trim, collapse inner whitespace and lower-case, so `Web  Dev` and `web dev` are one tag."""
    name = " ".join(raw.split()).lower()
    if not name:
        raise Invalid(field, "Tags must not be blank")
    if len(name) > TAG_MAX_LENGTH:
        raise Invalid(field, f"Tags are at most {TAG_MAX_LENGTH} characters long")
    return name


def normalise_tags(raw: Iterable[str], *, field: str = "tags") -> list[str]:
    """Normalised, distinct, sorted tag names; Invalid naming `field` when one is unusable."""
    names = sorted({normalise_tag(name, field=field) for name in raw})
    if len(names) > MAX_TAGS:
        raise Invalid(field, f"At most {MAX_TAGS} distinct tags")
    return names


def parse_sort(raw: str) -> tuple[str, bool]:
    """`-published_at` -> ("published_at", descending=True); Invalid naming `sort` otherwise."""
    value = raw.strip()
    descending = value.startswith("-")
    key = value[1:] if descending else value
    if key not in SORT_KEYS:
        choices = ", ".join(f"{k}, -{k}" for k in SORT_KEYS)
        raise Invalid("sort", f"Unknown sort {raw!r}; choose one of {choices}")
    return key, descending


def search_words(text: str) -> list[str]:
    """The words of a `q` search; Invalid naming `q` when there are none."""
    words = _WORD.findall(text.lower())
    if not words:
        raise Invalid("q", "The search must contain at least one letter or digit")
    return words


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class ArticleQuery:
    """What a reader asks `GET /blog/articles` for."""

    tags: tuple[str, ...] = ()
    match_all: bool = False
    status: str = PUBLISHED
    published_after: datetime | None = None
    """Inclusive lower bound on `published_at`."""
    published_before: datetime | None = None
    """Exclusive upper bound on `published_at`."""
    text: str | None = None
    author_id: UUID | None = None
    sort: str = "-published_at"
    page: int = 1
    page_size: int = 20


@dataclass(frozen=True)
class TagUsage:
    name: str
    count: int


class BlogService:
    """Articles and tags; the session is owned by the caller."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def _insert(self, table: Any) -> Any:
        """An INSERT that can say ON CONFLICT DO NOTHING on this database."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table)
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)

    # ---- reading -------------------------------------------------------------------------

    @staticmethod
    def can_see(viewer: CurrentUser | None, article: Article) -> bool:
        """Published articles are public; drafts only to their author and admins."""
        if article.status == PUBLISHED:
            return True
        return viewer is not None and (viewer.id == article.author_id or viewer.is_admin)

    async def get_article(self, viewer: CurrentUser | None, article_id: UUID) -> Article:
        article = await self.session.get(Article, article_id)
        if article is None or not self.can_see(viewer, article):
            raise NotFound("No such article")
        return article

    async def get_by_slug(self, viewer: CurrentUser | None, slug: str) -> Article:
        article = await self.session.scalar(select(Article).where(Article.slug == slug))
        if article is None or not self.can_see(viewer, article):
            raise NotFound("No such article")
        return article

    def _conditions(
        self, viewer: CurrentUser | None, query: ArticleQuery
    ) -> list[ColumnElement[bool]]:
        if query.status not in STATUSES:
            raise Invalid("status", f"Status must be one of {', '.join(STATUSES)}")
        conditions: list[ColumnElement[bool]] = [Article.status == query.status]
        if query.status == DRAFT:
            if viewer is None:
                raise Unauthorized("Sign in to list your drafts", field="status")
            if not viewer.is_admin:
                conditions.append(Article.author_id == viewer.id)
        if query.author_id is not None:
            conditions.append(Article.author_id == query.author_id)
        after = (
            as_utc(query.published_after, field="published_after")
            if query.published_after
            else None
        )
        before = (
            as_utc(query.published_before, field="published_before")
            if query.published_before
            else None
        )
        if after is not None and before is not None and after >= before:
            raise Invalid("published_before", "published_before must be later than published_after")
        if after is not None:
            conditions.append(Article.published_at >= after)
        if before is not None:
            conditions.append(Article.published_at < before)
        if query.tags:
            names = normalise_tags(query.tags, field="tag")
            conditions.append(self._tag_condition(names, query.match_all))
        if query.text is not None:
            conditions.append(self._text_condition(query.text))
        return conditions

    @staticmethod
    def _tag_condition(names: list[str], match_all: bool) -> ColumnElement[bool]:
        carrying = (
            select(article_tag.c.article_id)
            .join(Tag, Tag.id == article_tag.c.tag_id)
            .where(Tag.name.in_(names))
        )
        if match_all and len(names) > 1:
            # The link's primary key is (article_id, tag_id): one row per distinct tag.
            carrying = carrying.group_by(article_tag.c.article_id).having(
                func.count() == len(names)
            )
        return Article.id.in_(carrying)

    def _text_condition(self, text: str) -> ColumnElement[bool]:
        """Every word of `q` in the title or body, case-insensitively.

        Postgres matches stemmed words (`run` finds `running`) with its full-text search;
        other databases match each word as a substring.
        """
        words = search_words(text)
        if self.dialect == "postgresql":
            # The same expression as the GIN index ix_blog_article_search, so it is used.
            document = search_document(Article.title, Article.body)
            wanted = func.plainto_tsquery(SEARCH_CONFIG, " ".join(words))
            return document.bool_op("@@")(wanted)
        title, body = func.lower(Article.title), func.lower(Article.body)
        clauses = []
        for word in words:
            pattern = f"%{_escape_like(word)}%"
            clauses.append(or_(title.like(pattern, escape="\\"), body.like(pattern, escape="\\")))
        return and_(*clauses)

    def _ordering(self, query: ArticleQuery) -> list[UnaryExpression[Any]]:
        key, descending = parse_sort(query.sort)
        column: Any = func.lower(Article.title) if key == "title" else getattr(Article, key)
        primary = column.desc() if descending else column.asc()
        if key == "published_at" and query.status == DRAFT:
            # Unpublished drafts have no date; keep them last on every database.
            primary = primary.nulls_last()
        tiebreak = Article.id.desc() if descending else Article.id.asc()
        return [primary, tiebreak]

    async def list_articles(
        self, viewer: CurrentUser | None, query: ArticleQuery
    ) -> tuple[list[Article], int]:
        """One page of the articles `viewer` may see that match `query`, and the total."""
        conditions = self._conditions(viewer, query)
        ordering = self._ordering(query)
        total = await self.session.scalar(
            select(func.count()).select_from(Article).where(*conditions)
        )
        offset = (query.page - 1) * query.page_size
        if not total or offset >= total:
            return [], int(total or 0)
        statement: Select[Article] = (
            select(Article)
            .where(*conditions)
            .order_by(*ordering)
            .limit(query.page_size)
            .offset(offset)
        )
        return list(await self.session.scalars(statement)), int(total)

    async def tag_usage(self, *, page: int, page_size: int) -> tuple[list[TagUsage], int]:
        """Tags carried by published articles, most used first (drafts are not counted)."""
        used = (
            select(Tag.name, func.count().label("uses"))
            .join(article_tag, article_tag.c.tag_id == Tag.id)
            .join(Article, Article.id == article_tag.c.article_id)
            .where(Article.status == PUBLISHED)
            .group_by(Tag.name)
        )
        total = await self.session.scalar(select(func.count()).select_from(used.subquery()))
        rows = await self.session.execute(
            used.order_by(literal_column("uses").desc(), Tag.name)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        return [TagUsage(name, int(uses)) for name, uses in rows], int(total or 0)

    # ---- writing -------------------------------------------------------------------------

    async def _tags_named(self, names: list[str]) -> list[Tag]:
        """The Tag rows for `names`, creating missing ones; safe when writers race."""
        if not names:
            return []
        now = utcnow()
        rows = [{"id": uuid4(), "name": n, "created_at": now, "updated_at": now} for n in names]
        # Sorted names keep concurrent inserters taking row locks in one order (no deadlock).
        await self.session.execute(
            self._insert(Tag.__table__).values(rows).on_conflict_do_nothing(index_elements=["name"])
        )
        tags = list(await self.session.scalars(select(Tag).where(Tag.name.in_(names))))
        return sorted(tags, key=lambda tag: tag.name)

    async def _next_suffix(self, base: str) -> int:
        """One more than the highest `-N` already used after `base` (at least 2)."""
        taken = await self.session.scalars(
            select(Article.slug).where(or_(Article.slug == base, Article.slug.like(f"{base}-%")))
        )
        highest = 1
        for slug in taken:
            tail = slug[len(base) + 1 :]
            if tail.isdigit():
                highest = max(highest, int(tail))
        return highest + 1

    async def _insert_with_unique_slug(self, values: dict[str, Any]) -> UUID:
        """Insert the article under the first free slug: `base`, then `base-2`, `base-3`...

        The unique index decides: ON CONFLICT DO NOTHING tells us the slug was taken (also by
        a writer that committed a moment ago) and we try the next one, with no failed statement
        to roll back.
        """
        base = slug_base(values["title"])
        candidate = base
        table = Article.__table__
        for _ in range(SLUG_ATTEMPTS):
            inserted = await self.session.scalar(
                self._insert(table)
                .values(**values, slug=candidate)
                .on_conflict_do_nothing(index_elements=["slug"])
                .returning(table.c.id)
            )
            if inserted is not None:
                return UUID(str(inserted))
            candidate = f"{base}-{await self._next_suffix(base)}"
        raise Conflict("Could not find a free slug for this title; try again", field="title")

    async def create_article(self, author: CurrentUser, fields: Mapping[str, Any]) -> Article:
        """Create an article written by `author`, with a slug unique among all articles."""
        title = self._title(fields["title"])
        status = fields.get("status", DRAFT)
        published_at = fields.get("published_at")
        if status == PUBLISHED and published_at is None:
            published_at = utcnow()
        tags = await self._tags_named(normalise_tags(fields.get("tags", ())))
        now = utcnow()
        article_id = await self._insert_with_unique_slug(
            {
                "id": uuid4(),
                "author_id": author.id,
                "author_name": author.display_name[:100],
                "title": title,
                "body": fields.get("body", ""),
                "status": status,
                "published_at": as_utc(published_at) if published_at else None,
                "created_at": now,
                "updated_at": now,
            }
        )
        article = await self.session.get(Article, article_id)
        if article is None:  # pragma: no cover - we inserted it in this transaction
            raise NotFound("No such article")
        article.tags = tags
        await self.session.flush()
        return article

    @staticmethod
    def _title(raw: str) -> str:
        title = raw.strip()
        if not title:
            raise Invalid("title", "Title must not be blank")
        return title

    async def _editable(self, editor: CurrentUser, article_id: UUID) -> Article:
        article = await self.get_article(editor, article_id)
        ensure_owner(editor, article.author_id, what="article")
        return article

    async def update_article(
        self, editor: CurrentUser, article_id: UUID, changes: Mapping[str, Any]
    ) -> Article:
        """Apply `changes` (only the fields present); the slug stays, so links keep working.

        Publishing an article without a `published_at` stamps the time of first publication.
        """
        unknown = set(changes) - EDITABLE
        if unknown:
            raise Invalid(sorted(unknown)[0], "This field cannot be changed")
        article = await self._editable(editor, article_id)
        if not changes:
            return article
        if "title" in changes:
            article.title = self._title(changes["title"])
        if "body" in changes:
            article.body = changes["body"]
        if "status" in changes:
            if changes["status"] not in STATUSES:
                raise Invalid("status", f"Status must be one of {', '.join(STATUSES)}")
            article.status = changes["status"]
        if changes.get("published_at") is not None:
            article.published_at = as_utc(changes["published_at"])
        if article.status == PUBLISHED and article.published_at is None:
            article.published_at = utcnow()
        if "tags" in changes:
            article.tags = await self._tags_named(normalise_tags(changes["tags"]))
        if editor.id == article.author_id and editor.display_name:
            article.author_name = editor.display_name[:100]
        article.updated_at = utcnow()
        await self.session.flush()
        return article

    async def delete_article(self, editor: CurrentUser, article_id: UUID) -> None:
        article = await self._editable(editor, article_id)
        await self.session.delete(article)
        await self.session.flush()


SEED_WORDS = [
    "python",
    "postgres",
    "redis",
    "litestar",
    "async",
    "cache",
    "index",
    "query",
    "latency",
    "throughput",
    "queue",
    "worker",
    "deploy",
    "metrics",
    "tracing",
    "schema",
    "migration",
    "release",
    "pattern",
    "design",
    "testing",
    "review",
]


async def seed_published_articles(
    session: AsyncSession,
    *,
    run: str,
    start: int,
    count: int,
    tags: Sequence[str],
    author_id: UUID,
    author_name: str,
) -> int:
    """Insert `count` published demo articles in bulk (benchmarks, load tests); returns count.

    Slugs carry `run`, so seeding never collides with real articles or an earlier seed.
    """
    rng = random.Random(f"{run}-{start}")
    tag_rows = await BlogService(session)._tags_named(sorted({normalise_tag(t) for t in tags}))
    now = utcnow()
    articles: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    for number in range(start, start + count):
        article_id = uuid4()
        words = rng.sample(SEED_WORDS, 4)
        articles.append(
            {
                "id": article_id,
                "author_id": author_id,
                "author_name": author_name,
                "title": f"{' '.join(words).capitalize()} {number}",
                "slug": f"seed-{run}-{number}",
                "body": " ".join(rng.choice(SEED_WORDS) for _ in range(120)),
                "status": PUBLISHED,
                "published_at": now - timedelta(minutes=number),
                "created_at": now,
                "updated_at": now,
            }
        )
        for tag in rng.sample(tag_rows, min(3, len(tag_rows))):
            links.append({"article_id": article_id, "tag_id": tag.id})
    await session.execute(insert(Article), articles)
    if links:
        await session.execute(insert(article_tag), links)
    return count
